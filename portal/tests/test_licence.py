import hashlib
import json
import tomllib
from pathlib import Path

from portal.tests import deploy_files

ROOT = Path(__file__).resolve().parents[2]
LICENCE = "AGPL-3.0-or-later"
# SHA-256 of the FSF's text of the GNU AGPL v3 (agpl-3.0.txt, with its https addresses), unchanged.
AGPL_V3_SHA256 = "0d96a4ff68ad6d4b6f1f30f713b18d5184912ba8dd389f86aa7710db079abcb0"


def test_package_json_pyproject_and_the_image_declare_the_same_licence():
    package = json.loads((ROOT / "package.json").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    labels = " ".join(arguments for keyword, arguments in deploy_files.dockerfile_instructions() if keyword == "LABEL")

    assert package["license"] == project["license"] == LICENCE
    assert project["license-files"] == ["LICENSE"]
    assert f'org.opencontainers.image.licenses="{LICENCE}"' in labels


def test_the_licence_file_is_the_verbatim_agpl_v3():
    text = (ROOT / "LICENSE").read_bytes()
    first_lines = [line.strip() for line in text.decode().splitlines()[:2]]

    assert first_lines == ["GNU AFFERO GENERAL PUBLIC LICENSE", "Version 3, 19 November 2007"]
    assert hashlib.sha256(text).hexdigest() == AGPL_V3_SHA256
