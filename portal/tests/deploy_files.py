"""The deployment files (Dockerfile, .dockerignore, compose.yaml, the example env file) read as
Docker and Compose read them, so that tests can check them on a machine without Docker.

The readers cover the subset of each format these files use; a construct they do not know raises
instead of being misread.
"""

import ast
import json
import re
import secrets
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE_FILE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / "deploy" / "portal.env.example"
# The services that run the portal's image, with the portal's settings.
PORTAL_SERVICES = ("web", "worker", "migrate")
# What a city types into the blanks of the example file, for tests that need a complete set.
FILLED_IN = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "POSTGRES_PASSWORD": lambda: secrets.token_urlsafe(24),
    "FOOTAGE_STORAGE_ACCESS_KEY": lambda: secrets.token_urlsafe(12),
    "FOOTAGE_STORAGE_SECRET_KEY": lambda: secrets.token_urlsafe(30),
    "EMAIL_URL": lambda: "smtp+tls://portal:secret@mail.city.example:587",
}


# --- Settings -----------------------------------------------------------------------------------

def settings_variables():
    """Every environment variable the portal reads: the first argument of each env_* helper call
    (portal/env.py) in the project's modules, settings.py above all."""
    names = set()
    packages = [folder for folder in ROOT.iterdir() if (folder / "__init__.py").exists()]
    for path in (path for package in packages for path in package.rglob("*.py")):
        if {"tests", "migrations"} & set(path.relative_to(ROOT).parts):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        helpers = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   and node.module == "portal.env" for alias in node.names if alias.name.startswith("env_")}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in helpers
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                names.add(node.args[0].value)
    return names


# --- Env files and Compose's interpolation ------------------------------------------------------

_ENV_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def read_env_file(path):
    """KEY=VALUE lines as Compose reads them: comments, blank lines, quoted values."""
    values = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ENV_LINE.match(stripped)
        if match is None:
            raise ValueError(f"{path}:{number}: not a KEY=VALUE line: {line!r}")
        key, value = match.groups()
        if value[:1] in ("'", '"'):
            quote = value[0]
            end = value.find(quote, 1)
            if end == -1:
                raise ValueError(f"{path}:{number}: unclosed quote")
            value = value[1:end]
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        values[key] = value
    return values


_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def references(text):
    """{name: modifier} for each ${NAME...} in text; the modifier is "", ":-", "-", ":?" or "?"."""
    found = {}
    for match in _REFERENCE.finditer(text):
        name = match.group(1) or match.group(4)
        if name:
            found[name] = match.group(2) or found.get(name, "")
    return found


def interpolate(text, variables):
    """Compose's substitution of ${NAME}, ${NAME:-default}, ${NAME:?error} and $$ in one value."""

    def replace(match):
        if match.group(0) == "$$":
            return "$"
        name, modifier, argument = match.group(1) or match.group(4), match.group(2), match.group(3)
        value = variables.get(name)
        unset_or_empty = not value if modifier and modifier.startswith(":") else value is None
        if modifier in (":-", "-") and unset_or_empty:
            return argument
        if modifier in (":?", "?") and unset_or_empty:
            raise KeyError(f"{name}: {argument}")
        return value or ""

    return _REFERENCE.sub(replace, text)


# --- compose.yaml -------------------------------------------------------------------------------

def compose():
    return yaml.safe_load(COMPOSE_FILE.read_text())


def compose_references():
    """{name: modifier} for every variable compose.yaml takes from .env."""
    return references(COMPOSE_FILE.read_text())


def _env_files(service):
    entries = service.get("env_file") or []
    for entry in [entries] if isinstance(entries, (str, dict)) else entries:
        path = entry["path"] if isinstance(entry, dict) else entry
        yield COMPOSE_FILE.parent / path


def service_environment(name, variables=None):
    """The environment compose.yaml gives a service: its env files, then its environment, with
    .env's variables substituted (None: names only, values left as written)."""
    service = compose()["services"][name]
    environment = {}
    for path in _env_files(service):
        environment.update(read_env_file(path))
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    environment.update({key: "" if value is None else str(value) for key, value in raw.items()})
    if variables is None:
        return environment
    return {key: interpolate(value, variables) for key, value in environment.items()}


def command_text(service):
    command = compose()["services"][service].get("command") or ""
    return shlex.join(command) if isinstance(command, list) else command


def filled_in_example():
    """The example env file with its required blanks filled in as a city would."""
    values = read_env_file(ENV_EXAMPLE)
    for name, make in FILLED_IN.items():
        if not values.get(name):
            values[name] = make()
    return values


def production_environment():
    """The settings the documentation tells a city to run: compose.yaml's environment for web,
    from the example env file with its blanks filled in."""
    return {key: value for key, value in service_environment("web", filled_in_example()).items() if value != ""}


# --- Dockerfile and .dockerignore ---------------------------------------------------------------

def dockerfile_instructions():
    """[(INSTRUCTION, arguments)] with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text = pending + stripped
        pending = ""
        keyword, _, arguments = text.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def exec_form(arguments):
    """The words of an instruction's arguments, in JSON (exec) or shell form."""
    return json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)


def copy_instructions():
    """[(flags, sources, destination)] for every COPY."""
    copies = []
    for keyword, arguments in dockerfile_instructions():
        if keyword != "COPY":
            continue
        words = exec_form(arguments)
        flags = {}
        while words and words[0].startswith("--"):
            flag, _, value = words.pop(0)[2:].partition("=")
            flags[flag] = value
        copies.append((flags, words[:-1], words[-1]))
    return copies


def _pattern_regex(pattern):
    regex = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            regex, index = regex + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            regex, index = regex + ".*", index + 2
        elif pattern[index] == "*":
            regex, index = regex + "[^/]*", index + 1
        elif pattern[index] == "?":
            regex, index = regex + "[^/]", index + 1
        else:
            regex, index = regex + re.escape(pattern[index]), index + 1
    return re.compile(regex + r"\Z")


def dockerignore_rules():
    rules = []
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip().strip("/")
        rules.append((negated, _pattern_regex(pattern)))
    return rules


def ignored_by_dockerignore(path):
    """Whether path (relative to the build context) is left out of it: the last matching rule on
    the path or one of its parent folders decides, as in Docker."""
    parts = Path(path).parts
    candidates = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    excluded = False
    for negated, regex in dockerignore_rules():
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negated
    return excluded
