"""The exclusion presets and the one matcher the archive runner and the preview share (D2)."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain.model import TargetKind, TargetSpec
from core.exclusions.presets import DEFAULT_OVER_MB, PRESET_IDS, find_preset, presets
from core.exclusions.preview import preview
from core.exclusions.rules import CACHEDIR_SIGNATURE, compile_exclusions, has_cachedir_tag
from core.jobs.runners.archive import ArchiveRunner
from core.jobs.runners.base import CancelToken

NAME = st.text(alphabet="abcxyz_.-0", min_size=1, max_size=6).filter(lambda s: s not in (".", ".."))


def test_the_table_holds_the_presets_the_issue_names_in_gitignore_syntax() -> None:
    table = {p.id: p.entries for p in presets()}
    assert tuple(table) == PRESET_IDS
    assert table["node-modules"] == ("node_modules/",)
    assert table["git"] == (".git/",)
    assert {"wp-content/cache/", ".cache/", "__pycache__/"} <= set(table["caches"])
    assert table["backup-plugins"] == (
        "wp-content/updraft/",
        "wp-content/ai1wm-backups/",
        "wp-content/backups-dup-*/",
        "wp-content/uploads/backwpup-*/",
    )
    assert table["logs"] == ("*.log", "logs/")
    assert table["large-media"] == (f":larger-than={DEFAULT_OVER_MB}MB",)
    assert table["cachedir-tag"] == (":cachedir-tag",)
    assert table["nobackup"] == (":if-present=.nobackup",)
    assert presets(250)[PRESET_IDS.index("large-media")].entries == (":larger-than=250MB",)
    with pytest.raises(ValueError, match="over_mb"):
        presets(0)


@pytest.mark.parametrize(
    ("choice", "found"),
    [
        ("logs", "logs"),
        ("LOGS", "logs"),
        ("node_modules", "node-modules"),
        ("1", "node-modules"),
        ("8", "nobackup"),
        ("0", None),
        ("9", None),
        ("0001", None),
        ("١", None),  # an Arabic-Indic one is a digit, but not a number we list
        ("", None),
        ("*.log", None),
    ],
)
def test_a_preset_is_found_by_name_or_by_its_number_in_the_list(
    choice: str, found: str | None
) -> None:
    preset = find_preset(choice)
    assert (preset.id if preset else None) == found


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("wp-content/cache/", True),
        ("wp-content/cache/page.html", True),
        ("site/wp-content/cache/", False),  # anchored: a slash before the end
        (".cache/", True),
        ("a/b/.cache/x", True),  # no slash but the trailing one: at any depth
        (".cache", False),  # a file called .cache is not the folder
        ("wp-content/backups-dup-lite/", True),
        ("wp-content/backups-dup-lite/x.zip", True),
        ("wp-content/uploads/backwpup-abc-backups/", True),
        ("wp-content/uploads/2024/backwpup-x/", False),
        ("error.log", True),
        ("deep/down/error.log", True),
        ("logs/", True),
        ("app/logs/today.txt", True),
        ("logs", False),
        ("catalog.txt", False),
    ],
)
def test_preset_patterns_follow_gitignore_rules(path: str, excluded: bool) -> None:
    entries = [e for p in presets() for e in p.entries]
    assert compile_exclusions(entries).excludes_path(path) is excluded


def test_a_negation_cannot_re_include_a_file_below_an_excluded_folder_as_in_git() -> None:
    rules = compile_exclusions(["logs/", "!logs/keep.txt", "*.tmp", "!keep.tmp"])
    assert rules.excludes_path("logs/keep.txt")
    assert not rules.excludes_path("keep.tmp")
    assert rules.excludes_path("other.tmp")


@settings(max_examples=200, deadline=None)
@given(
    folder=st.lists(NAME, min_size=1, max_size=3),
    above=st.lists(NAME, max_size=2),
    below=st.lists(NAME, min_size=1, max_size=3),
    anchored=st.booleans(),
    trailing=st.booleans(),
)
def test_a_path_matched_by_a_folder_pattern_means_everything_below_it_is_too(
    folder: list[str], above: list[str], below: list[str], anchored: bool, trailing: bool
) -> None:
    pattern = ("/" if anchored else "") + "/".join(folder) + "/"
    rules = compile_exclusions([pattern])
    # A slash before the end anchors a pattern at the root (gitignore): `a/b/` is not `x/a/b/`.
    floating = not anchored and len(folder) == 1
    prefix = "/".join(above) + ("/" if above else "") if floating else ""
    matched = prefix + "/".join(folder) + "/"
    assert rules.excludes_path(matched)
    inside = matched + "/".join(below) + ("/" if trailing else "")
    assert rules.excludes_path(inside), (pattern, inside)


@settings(max_examples=200, deadline=None)
@given(entries=st.lists(st.text(max_size=20), max_size=5), path=st.lists(NAME, min_size=1))
def test_any_exclude_list_compiles_and_answers_without_error(
    entries: list[str], path: list[str]
) -> None:
    rules = compile_exclusions(entries)
    assert isinstance(rules.excludes_path("/".join(path)), bool)
    assert isinstance(rules.excludes_path("/".join(path) + "/"), bool)


def test_a_pattern_pathspec_refuses_matches_nothing_and_breaks_no_other() -> None:
    # Found by the property above: a lone trailing backslash made the whole list fail, so an
    # archive with such a schedule pattern failed, and so did its preview.
    rules = compile_exclusions(["\\", "*.log", "abc\\"])
    assert rules.excludes_path("x.log") and not rules.excludes_path("abc")
    assert not rules.excludes_path("\\")


def test_directives_are_read_and_a_bad_one_is_only_a_literal_name() -> None:
    rules = compile_exclusions([":larger-than=5MB", ":larger-than=2MB", ":if-present=.nobackup"])
    assert rules.over_bytes == 2_000_000 and rules.markers == {".nobackup"}
    assert rules.excludes_file("a.bin", 2_000_001) and not rules.excludes_file("a.bin", 2_000_000)
    assert not rules.excludes_file("link", None)  # a symlink is never too large
    odd = compile_exclusions([":larger-than=lots", ":if-present=../x", ":if-present=.."])
    assert odd.over_bytes is None and not odd.markers
    assert odd.excludes_path(":larger-than=lots")  # just a (strange) file name


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


SITE = {
    "index.html": b"<h1>hi</h1>",
    "node_modules/pad/index.js": b"x" * 10,
    "wp-content/cache/page.html": b"c" * 20,
    "wp-content/updraft/backup.zip": b"u" * 30,
    "wp-content/backups-dup-pro/a.zip": b"d" * 40,
    "wp-content/uploads/backwpup-1a2b-backups/b.zip": b"w" * 50,
    "wp-content/uploads/2024/photo.jpg": b"p" * 60,
    "app/error.log": b"e" * 7,
    "logs/today.txt": b"l" * 8,
    "media/film.mp4": b"m" * 2_000_001,
    "thumbs/CACHEDIR.TAG": CACHEDIR_SIGNATURE + b"\n# made by a thumbnailer\n",
    "thumbs/t1.png": b"t" * 9,
    "fake-cache/CACHEDIR.TAG": b"Signature: not the right one",
    "fake-cache/keep.txt": b"k",
    "private/.nobackup": b"",
    "private/secret.txt": b"s" * 11,
    ".git/HEAD": b"ref: refs/heads/main\n",
}


def test_cachedir_tag_needs_the_signature_at_the_start(tmp_path: Path) -> None:
    _tree(tmp_path, SITE)
    assert has_cachedir_tag(str(tmp_path / "thumbs"))
    assert not has_cachedir_tag(str(tmp_path / "fake-cache"))
    (tmp_path / "linked").mkdir()
    os.symlink(tmp_path / "thumbs" / "CACHEDIR.TAG", tmp_path / "linked" / "CACHEDIR.TAG")
    assert not has_cachedir_tag(str(tmp_path / "linked"))


def test_the_preview_counts_what_each_preset_would_leave_out(tmp_path: Path) -> None:
    _tree(tmp_path, SITE)
    result = preview(str(tmp_path), presets(1))
    counts = {pid: (t.files, t.bytes) for pid, t in result.tallies.items()}
    assert counts == {
        "node-modules": (1, 10),
        "git": (1, 21),
        "caches": (1, 20),
        "backup-plugins": (3, 120),
        "logs": (2, 15),
        "large-media": (1, 2_000_001),
        "cachedir-tag": (2, 9 + len(SITE["thumbs/CACHEDIR.TAG"])),
        "nobackup": (2, 11),
    }
    assert result.files_seen == len(SITE) and result.complete and not result.skipped_dirs


def test_what_the_target_already_excludes_is_not_counted_again(tmp_path: Path) -> None:
    _tree(tmp_path, SITE)
    result = preview(str(tmp_path), presets(), ["node_modules/", "*.log"])
    assert result.tallies["node-modules"].files == 0
    assert (result.tallies["logs"].files, result.tallies["logs"].bytes) == (1, 8)
    assert result.files_seen == len(SITE) - 2


def test_the_preview_follows_no_symlink_and_counts_an_unreadable_folder_as_skipped(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    _tree(outside, {"node_modules/a.js": b"a" * 100, "big.log": b"b"})
    site = tmp_path / "site"
    _tree(site, {"index.html": b"i", "locked/node_modules/x.js": b"x"})
    os.symlink(outside, site / "elsewhere")  # a folder symlink: a file of size 0, not walked
    os.symlink(outside / "big.log", site / "big.log")
    (site / "locked").chmod(0)
    try:
        result = preview(str(site), presets())
    finally:
        (site / "locked").chmod(0o755)
    if os.geteuid() == 0:
        assert result.skipped_dirs == 0  # root reads every folder
    else:
        assert result.skipped_dirs == 1
        assert result.tallies["node-modules"].files == 0
    assert result.tallies["logs"].files == 1 and result.tallies["logs"].bytes == 0
    assert result.files_seen == (4 if os.geteuid() == 0 else 3)


def test_a_missing_source_is_said_not_walked(tmp_path: Path) -> None:
    assert preview(str(tmp_path / "gone"), presets()).missing


@pytest.mark.parametrize("preset", PRESET_IDS)
def test_the_archive_runner_leaves_out_exactly_what_the_preview_counted(
    tmp_path: Path, preset: str
) -> None:
    source = tmp_path / "site"
    _tree(source, SITE)
    table = presets(1)
    [chosen] = [p for p in table if p.id == preset]
    counted = preview(str(source), table).tallies[preset]
    spec = TargetSpec(
        "site",
        TargetKind.ARCHIVE,
        source=str(source),
        archive_dir=str(tmp_path / "out"),
        exclude=chosen.entries,
    )
    result = ArchiveRunner(spec, use_tmpfile=False).run(1, CancelToken(), lambda p: None)
    with tarfile.open(result.archive_path) as tar:
        kept = {m.name: m.size for m in tar.getmembers() if not m.isdir()}
    assert result.file_count == len(SITE) - counted.files
    assert sum(kept.values()) == sum(len(v) for v in SITE.values()) - counted.bytes


def test_a_folder_that_cannot_be_opened_is_counted_as_skipped_even_for_root(
    tmp_path: Path,
) -> None:
    # Root reads any folder, but not one whose path is longer than PATH_MAX: made level by
    # level through directory descriptors, it exists and its listing fails (ENAMETOOLONG).
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_bytes(b"hi")
    fd = os.open(site, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(24):  # 24 × 201 characters: past Linux's 4,096
            os.mkdir("d" * 200, dir_fd=fd)
            deeper = os.open("d" * 200, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = deeper
        os.close(os.open("deep.log", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    finally:
        os.close(fd)
    result = preview(str(site), presets())
    assert result.skipped_dirs == 1
    assert result.files_seen == 1 and result.tallies["logs"].files == 0
    assert result.complete  # a skipped folder is said, not a cut-short walk
