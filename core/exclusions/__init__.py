"""Exclusions (D2): the preset library, the matcher the archive runner and the preview share,
and the bounded walk that previews what each preset would leave out."""
