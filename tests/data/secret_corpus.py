"""One corpus of secret shapes (G3), fed through every output by the tests.

Each `Shape` is a line a failing tool could print and the parts of it that must never come
out again. The values are fake but real-shaped (lengths, alphabets, prefixes), so a detector
that knows the provider's format catches them. `READABLE` is text that is not secret and must
come out unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    name: str
    line: str
    secrets: tuple[str, ...]


def _shape(name: str, line: str, *secrets: str) -> Shape:
    return Shape(name, line, secrets)


SHAPES: tuple[Shape, ...] = (
    # Chat platforms
    _shape(
        "slack bot token",
        "slack: invalid_auth for xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    _shape(
        "slack user token",
        "using xoxp-1234567890-1234567890-1234567890123-0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcdef",
    ),
    _shape(
        "slack app token",
        "socket mode: xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef0123",
        "0123456789abcdef0123456789abcdef0123",
    ),
    _shape(
        "slack webhook",
        "posting to https://hooks.slack.com/services/T0123ABCD/B0123ABCD/AbCdEfGhIjKlMnOpQrStUvWx",
        "AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    _shape(
        "discord webhook",
        "subscribe demo --webhook https://discord.com/api/webhooks/1234567890123456789/"
        "Tq9Lz2Xv8Bn4Mc6Ad1Sf7Gh3Jk5Lp0Qw8Er2Ty6Ui4Op1AsDfGhJkLzXcVbNm0123456789AbC",
        "Tq9Lz2Xv8Bn4Mc6Ad1Sf7Gh3Jk5Lp0Qw8Er2Ty6Ui4Op1AsDfGhJkLzXcVbNm0123456789AbC",
    ),
    _shape(
        "discord bot token",
        "discord login: MTE0NzI2MDM4NjU0NDM4NDAwMA.GkX9aB.Zq3vYt7Lm2Np8Rs4Tu6Vw0Xy1Za5Bc9De_f",
        "MTE0NzI2MDM4NjU0NDM4NDAwMA",
        "Zq3vYt7Lm2Np8Rs4Tu6Vw0Xy1Za5Bc9De_f",
    ),
    _shape(
        "telegram bot token",
        "telegram: 1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw4 rejected",
        "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw4",
    ),
    # Source forges and registries
    _shape(
        "github classic token",
        "git: token ghp_R2d2C3poL8kEJ4nB9vQ1xZ7mW5tY0uI3oP6a failed",
        "R2d2C3poL8kEJ4nB9vQ1xZ7mW5tY0uI3oP6a",
    ),
    _shape(
        "github fine-grained token",
        "GH_TOKEN github_pat_11ABCDEFG0123456789abc_"
        "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUv",
        "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUv",
    ),
    _shape(
        "github token in a clone url",
        "fatal: could not read https://x-access-token:ghs_16C7e42F292c6912E7710c838347Ae178B4a"
        "@github.com/acme/site.git",
        "16C7e42F292c6912E7710c838347Ae178B4a",
    ),
    _shape(
        "gitlab personal token",
        "remote: HTTP Basic: Access denied for glpat-Xy7zAbC9dEfGh1jKlMn0",
        "Xy7zAbC9dEfGh1jKlMn0",
    ),
    _shape(
        "npm token",
        "//registry.npmjs.org/:_authToken=npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    ),
    _shape(
        "npm token alone",
        "npm ERR! 401 with npm_Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8",
        "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8",
    ),
    _shape(
        "pypi token",
        "twine: 403 for pypi-AgEIcHlwaS5vcmcCJDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMAAC"
        "KlszdGVzdHRva2VudmFsdWVmb3JleHBvcnRib3Q",
        "KlszdGVzdHRva2VudmFsdWVmb3JleHBvcnRib3Q",
    ),
    # Clouds
    _shape(
        "aws access key id",
        "s3: InvalidAccessKeyId AKIAIOSFODNN7EXAMPLE",
        "AKIAIOSFODNN7EXAMPLE",
    ),
    _shape(
        "aws secret after its name",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    _shape(
        "aws secret in a credentials table",
        "AWS_SECRET_ACCESS_KEY    wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE2",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE2",
    ),
    _shape(
        "aws secret beside its key id",
        "credentials: AKIAI44QH8DHBEXAMPLE je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        "AKIAI44QH8DHBEXAMPLE",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    ),
    _shape(
        "aws secret in a csv row",
        "backup-user,AKIAJ7Q2EXAMPLEKEYID,Xe9Pq2Lm7Nr4Ts1Uv8Wx3Yz6Ab0Cd5Ef2Gh9Ij4k",
        "AKIAJ7Q2EXAMPLEKEYID",
        "Xe9Pq2Lm7Nr4Ts1Uv8Wx3Yz6Ab0Cd5Ef2Gh9Ij4k",
    ),
    _shape(
        "google api key",
        "maps: key AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY is not authorized",
        "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    ),
    _shape(
        "azure storage connection string",
        "DefaultEndpointsProtocol=https;AccountName=acmebackups;AccountKey="
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
        "EndpointSuffix=core.windows.net",
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq",
    ),
    _shape(
        "azure sas url",
        "azcopy: 403 on https://acme.blob.core.windows.net/backups?sv=2022-11-02&ss=b&srt=co"
        "&sp=rwdlac&se=2030-01-01T00:00:00Z&sig=Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6cXV1eg%3D",
        "Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6cXV1eg",
    ),
    # Payment, messaging, AI providers
    _shape(
        "stripe secret key",
        "stripe: No such customer; key sk_live_51H8xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCd",
        "51H8xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCd",
    ),
    _shape(
        "stripe restricted key",
        "stripe: rk_live_9f8E7d6C5b4A3z2Y1x0W9v8U7t6S5r4Q3p2O",
        "9f8E7d6C5b4A3z2Y1x0W9v8U7t6S5r4Q3p2O",
    ),
    _shape(
        "twilio auth",
        "twilio: account AC0123456789abcdef0123456789abcdef key SK0123456789abcdef0123456789abcdef",
        "AC0123456789abcdef0123456789abcdef",
        "SK0123456789abcdef0123456789abcdef",
    ),
    _shape(
        "sendgrid key",
        "mail: 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 rejected",
        "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr",
    ),
    _shape(
        "openai project key",
        "openai: Incorrect API key provided: sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90"
        "Uv12Wx34Yz56_-AbCdEf",
        "Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90",
    ),
    _shape(
        "openai legacy key",
        "OPENAI_API_KEY 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",
        "Zx9Yw8Vu7Ts6Rq5Po4NmT3BlbkFJLk3Jh2Gf1Ed0Cb9Az8Yx",
    ),
    _shape(
        "anthropic key",
        "anthropic: 401 for sk-ant-api03-Qw3Er4Ty5Ui6Op7As8Df9Gh0Jk1Lz2Xc3Vb4Nm5Qw6Er7Ty8Ui9-"
        "Op0AsDfGhAA",
        "Qw3Er4Ty5Ui6Op7As8Df9Gh0Jk1Lz2Xc3Vb4Nm5Qw6Er7Ty8Ui9",
    ),
    # Tokens and keys that carry their own structure
    _shape(
        "jwt",
        "401: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJiYWNrdXAiLCJpYXQiOjE3MDAwMDAwMDB9"
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c expired",
        "eyJzdWIiOiJiYWNrdXAiLCJpYXQiOjE3MDAwMDAwMDB9",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    ),
    _shape(
        "private key block",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n"
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
        "QyNTUxOQAAACBexampleexampleexampleexampleexampleexampleAAAAAAAAAA\n"
        "-----END OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
        "QyNTUxOQAAACBexampleexampleexample",
    ),
    _shape(
        "end of a private key in a tail",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7example0example1\n"
        "aGVsbG8gd29ybGQgdGhpcyBpcyBhIGZha2Uga2V5IGJvZHkgbGluZQ==\n"
        "-----END PRIVATE KEY-----",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
        "aGVsbG8gd29ybGQgdGhpcyBpcyBhIGZha2Uga2V5IGJvZHkgbGluZQ",
    ),
    # Authorization headers
    _shape(
        "bearer header",
        "curl: > Authorization: Bearer ya29.a0AfH6SMBx3exampleAccessTokenValue0123456789",
        "ya29.a0AfH6SMBx3exampleAccessTokenValue0123456789",
    ),
    _shape(
        "basic header",
        "> Authorization: Basic YmFja3VwOmh1bnRlcjJodW50ZXIy",
        "YmFja3VwOmh1bnRlcjJodW50ZXIy",
    ),
    _shape(
        "token header",
        "request failed; authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
        "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
    ),
    _shape(
        "api key header",
        "X-Api-Key: 7f3c9a1e5b2d8f4a6c0e9b3d7f1a5c8e",
        "7f3c9a1e5b2d8f4a6c0e9b3d7f1a5c8e",
    ),
    # Passwords in URLs, environments and command lines
    _shape(
        "password in a url",
        "pg_dump: connection to postgresql://backup:Tr0ub4dor3@db.internal:5432/site failed",
        "Tr0ub4dor3",
    ),
    _shape(
        "password with @ in a url",
        "rsync: https://backup:p@ss@w0rdzz@files.example.net/site-a refused",
        "p@ss@w0rdzz",
        "ss@w0rdzz",
        "w0rdzz",
    ),
    _shape(
        "password in an ftp url",
        "lftp ftp://deploy:C0rrectH0rse!@ftp.example.org/backups",
        "C0rrectH0rse!",
    ),
    _shape("pgpassword", "PGPASSWORD=hunter2pg pg_dump -h db site", "hunter2pg"),
    _shape("quoted pgpassword", "export PGPASSWORD='s3cret pg'", "s3cret pg"),
    _shape("mysql_pwd", "env MYSQL_PWD=Myq5ecret mysqldump site", "Myq5ecret"),
    _shape("password flag", "mysqldump --user backup --password hunter3 site", "hunter3"),
    _shape("password flag with =", "restic --password=Rest1cPass backup /srv", "Rest1cPass"),
    _shape("token flag", "vault login --token hvs.CAESIExampleVaultTok3n0000", "CAESIExample"),
    _shape(
        "client secret flag",
        "az login --client-secret Az9Cl13ntS3cret --tenant t",
        "Az9Cl13ntS3cret",
    ),
    _shape("mysql -p", "mysql -u root -pMyR00tPw site < dump.sql", "MyR00tPw"),
    _shape("sshpass -p", "sshpass -p 'Ssh9assw0rd' rsync -a /srv host:", "Ssh9assw0rd"),
    # key=value pairs
    _shape("password=value", "db.password=Sup3rS3cret!", "Sup3rS3cret!"),
    _shape("api_key: value", 'config: {"api_key": "ak_0f9e8d7c6b5a4"}', "ak_0f9e8d7c6b5a4"),
    _shape("client_secret=", "oauth: client_secret=Cl13ntS3cr3tV4lue&grant", "Cl13ntS3cr3tV4lue"),
    _shape(
        "secret in a query",
        "GET https://api.example.com/v1/export?access_token=Qz7Xw2Ve5Rb8Tn1Ym4&x=1",
        "Qz7Xw2Ve5Rb8Tn1Ym4",
    ),
    # Home directories name people
    _shape("linux home", "open /home/jdoe42/.ssh/id_rsa: permission denied", "jdoe42"),
    _shape("mac home", "cannot read /Users/mbeaulieu/Documents/backup.key", "mbeaulieu"),
    _shape(
        "windows home", r"C:\Users\kwiatkowska\AppData\Roaming\rclone\rclone.conf", "kwiatkowska"
    ),
    _shape("root home", "tar: /root/.aws/credentials: Cannot open", "/root/.aws"),
)

# Not secret: must come through redaction unchanged.
READABLE: tuple[str, ...] = (
    "job #1234 failed after 3 tries",
    "exited with status 2: fatal: refused by the NAS",
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b4b0b822cd15d6c15b0f00a08",
    "started 2024-05-17T03:00:00+02:00, finished 2024-05-17T03:04:12Z",
    "rsync: /var/backups/site-a/2024-05-17.tar.gz: No space left on device",
    'pg_dump: error: password authentication failed for user "backup"',
    "see https://docs.example.com/home/troubleshooting for help",
    "disk /dev/sda1 is 91% full; 12.5 GiB left",
    "the token bucket refilled; Authorization required for schedule changes",
    "mkdir -p /srv/exports && ssh -p 2222 backup@nas.local",
    "docker login --password-stdin -u ci registry.example.com",
    "commit 3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f by alice",
    # A Teams principal whose tenant id ends in digits, then a colon and the user's id: the
    # Telegram token shape (8-10 digits, a colon, 35 characters) without its word start.
    "teams:72f988bf-86f1-41af-91ab-201234567890:1e5c2ac0-1234-4a8b-9c7d-1234567890ab",
    "teams:00000000-0000-0000-0000-0000000000001:00000000-0000-0000-0000-0000000000020",
    "run 'exportbot api-key create --name nas' to make a key",
    "Connection to 10.0.4.12 port 22 refused",
)
