"""Check every configuration snippet in docs/ for syntax and for meaning.

Each fenced TOML, JSON or YAML block in docs/*.md must parse. Each engine's page must
keep its snippet, and the snippet must say what the page says: pyrunc's absolute path,
the cgroupfs driver, and one handler name shared by containerd, CRI-O and the
Kubernetes RuntimeClass. The containerd snippet is also loaded by a real
``containerd config dump``, which reads configuration without starting a daemon.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomllib
import yaml

DOCS = Path(__file__).resolve().parents[2] / "docs"
PYRUNC = "/usr/local/bin/pyrunc"
CRI_PLUGIN = "io.containerd.grpc.v1.cri"
RUNC_SHIM = "io.containerd.runc.v2"

# The keys of the runc shim's options message (containerd's runc options proto);
# any other key in an options table is silently ignored, so a typo goes unnoticed.
RUNC_SHIM_OPTIONS = frozenset(
    {
        "NoPivotRoot",
        "NoNewKeyring",
        "ShimCgroup",
        "IoUid",
        "IoGid",
        "BinaryName",
        "Root",
        "CriuPath",
        "SystemdCgroup",
        "CriuImagePath",
        "CriuWorkPath",
    }
)

PARSERS: dict[str, Callable[[str], list[Any]]] = {
    "toml": lambda text: [tomllib.loads(text)],
    "json": lambda text: [json.loads(text)],
    "yaml": lambda text: list(yaml.safe_load_all(text)),
}
UNCHECKED_LANGUAGES = frozenset({"sh"})

# The page that documents each engine and the language of its configuration.
EXPECTED = {
    "containerd.md": "toml",
    "cri-o.md": "toml",
    "podman.md": "toml",
    "docker.md": "json",
    "kubernetes.md": "yaml",
}

_FENCE = re.compile(r"^```(?P<lang>\S*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
_LINK = re.compile(r"\]\((?P<target>[^)#:]+\.md)(?:#[^)]*)?\)")


@dataclass(frozen=True)
class Snippet:
    """One fenced block of a page: its info string's language and its text."""

    page: str
    line: int
    lang: str
    text: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}:{self.lang or 'unnamed'}"

    def parse(self) -> list[Any]:
        """Return the documents the block holds (YAML may hold several).

        Raises:
            KeyError: the block's language has no parser.
            ValueError: the text does not parse (tomllib, json and yaml errors).
        """
        return PARSERS[self.lang](self.text)


def _read_snippets(page: Path) -> list[Snippet]:
    text = page.read_text(encoding="utf-8")
    return [
        Snippet(
            page=page.name,
            line=text.count("\n", 0, match.start()) + 1,
            lang=match["lang"],
            text=match["body"],
        )
        for match in _FENCE.finditer(text)
    ]


def _pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


SNIPPETS = [snippet for page in _pages() for snippet in _read_snippets(page)]
CONFIG_SNIPPETS = [s for s in SNIPPETS if s.lang in PARSERS]


def _documents(page: str, lang: str) -> list[Any]:
    """Return every parsed document of the page's blocks in that language."""
    found = [s for s in CONFIG_SNIPPETS if s.page == page and s.lang == lang]
    if not found:
        pytest.fail(f"docs/{page} has no {lang} block")
    return [document for snippet in found for document in snippet.parse()]


def _get(document: Any, *keys: str) -> Any:
    """Return the value at the path of keys, failing with the path if it is absent."""
    value = document
    for depth, key in enumerate(keys):
        if not isinstance(value, dict) or key not in value:
            pytest.fail(f"no {'.'.join(keys[: depth + 1])} in {document!r}")
        value = value[key]
    return value


def _containerd_handlers(document: dict[str, Any]) -> dict[str, Any]:
    runtimes = _get(document, "plugins", CRI_PLUGIN, "containerd", "runtimes")
    return {
        name: runtime
        for name, runtime in runtimes.items()
        if runtime.get("options", {}).get("BinaryName") == PYRUNC
    }


def _only(found: dict[str, Any], what: str) -> tuple[str, Any]:
    """Return the single (name, value) item, failing if there is none or several."""
    if len(found) != 1:
        pytest.fail(f"expected one {what} naming {PYRUNC}, found {sorted(found)}")
    return next(iter(found.items()))


def _containerd_handler() -> tuple[str, Any]:
    found: dict[str, Any] = {}
    for document in _documents("containerd.md", "toml"):
        found.update(_containerd_handlers(document))
    return _only(found, "containerd runtime handler")


def _crio_handler() -> tuple[str, Any]:
    found: dict[str, Any] = {}
    for document in _documents("cri-o.md", "toml"):
        for name, runtime in _get(document, "crio", "runtime", "runtimes").items():
            if runtime.get("runtime_path") == PYRUNC:
                found[name] = runtime
    return _only(found, "CRI-O runtime handler")


def _kubernetes_objects(kind: str) -> list[dict[str, Any]]:
    documents = _documents("kubernetes.md", "yaml")
    return [d for d in documents if isinstance(d, dict) and d.get("kind") == kind]


def test_docs_have_pages() -> None:
    """The index and one page per engine exist."""
    names = {page.name for page in _pages()}

    assert {"README.md", *EXPECTED} <= names


@pytest.mark.parametrize("snippet", SNIPPETS, ids=str)
def test_block_names_its_language(snippet: Snippet) -> None:
    """Every fenced block says what it holds, in a language this test knows."""
    assert snippet.lang in PARSERS.keys() | UNCHECKED_LANGUAGES


@pytest.mark.parametrize("snippet", CONFIG_SNIPPETS, ids=str)
def test_block_parses(snippet: Snippet) -> None:
    """Every TOML, JSON and YAML block parses, and holds at least one document."""
    documents = snippet.parse()

    assert documents
    assert all(document is not None for document in documents)


@pytest.mark.parametrize(("page", "lang"), sorted(EXPECTED.items()))
def test_engine_page_keeps_its_snippet(page: str, lang: str) -> None:
    """Each engine's page holds a configuration block of its language."""
    assert any(s.page == page and s.lang == lang for s in CONFIG_SNIPPETS)


@pytest.mark.parametrize("page", _pages(), ids=lambda page: page.name)
def test_links_between_pages_resolve(page: Path) -> None:
    """Every relative link to a Markdown page points at an existing file."""
    targets = _LINK.findall(page.read_text(encoding="utf-8"))

    missing = [t for t in targets if not (page.parent / t).is_file()]
    assert not missing


def test_containerd_snippet_registers_pyrunc() -> None:
    """The containerd handler uses the runc shim with pyrunc, on cgroupfs."""
    for document in _documents("containerd.md", "toml"):
        assert document.get("version") == 2

    _, runtime = _containerd_handler()
    options = runtime["options"]
    assert runtime.get("runtime_type") == RUNC_SHIM
    assert options.get("SystemdCgroup", False) is False
    assert set(options) <= RUNC_SHIM_OPTIONS
    assert Path(options.get("Root", "/")).is_absolute()


def test_crio_snippet_registers_pyrunc() -> None:
    """The CRI-O handler runs pyrunc as an OCI runtime, with cgroupfs and conmon."""
    _, runtime = _crio_handler()
    runtime_table = next(
        _get(d, "crio", "runtime") for d in _documents("cri-o.md", "toml")
    )

    assert runtime.get("runtime_type") == "oci"
    assert Path(runtime.get("runtime_root", "/")).is_absolute()
    assert runtime_table.get("cgroup_manager") == "cgroupfs"
    # CRI-O refuses any other monitor cgroup under the cgroupfs manager.
    assert runtime.get("monitor_cgroup") == "pod"


def test_podman_snippet_registers_pyrunc() -> None:
    """podman knows pyrunc by path, asks it for JSON logs and uses cgroupfs."""
    for document in _documents("podman.md", "toml"):
        engine = _get(document, "engine")
        names = [n for n, paths in engine["runtimes"].items() if PYRUNC in paths]

        assert names
        assert all(Path(p).is_absolute() for n in names for p in engine["runtimes"][n])
        assert set(names) <= set(engine.get("runtime_supports_json", []))
        assert engine.get("cgroup_manager") == "cgroupfs"


def test_docker_snippet_registers_pyrunc() -> None:
    """Docker has a runtime whose path is pyrunc, and the cgroupfs driver."""
    for document in _documents("docker.md", "json"):
        runtimes = _get(document, "runtimes")

        assert any(r.get("path") == PYRUNC for r in runtimes.values())
        assert "native.cgroupdriver=cgroupfs" in document.get("exec-opts", [])


def test_runtime_class_matches_handlers() -> None:
    """The RuntimeClass's handler is the name containerd and CRI-O give pyrunc."""
    (runtime_class,) = _kubernetes_objects("RuntimeClass")

    assert runtime_class.get("apiVersion") == "node.k8s.io/v1"
    assert runtime_class.get("handler") == _containerd_handler()[0]
    assert runtime_class.get("handler") == _crio_handler()[0]


def test_pod_asks_for_the_runtime_class() -> None:
    """The example Pod names the RuntimeClass by its metadata.name."""
    (runtime_class,) = _kubernetes_objects("RuntimeClass")
    (pod,) = _kubernetes_objects("Pod")

    name = _get(runtime_class, "metadata", "name")
    assert _get(pod, "spec", "runtimeClassName") == name


def test_kubelet_uses_cgroupfs() -> None:
    """The kubelet configuration shown selects the cgroupfs driver."""
    (kubelet,) = _kubernetes_objects("KubeletConfiguration")

    assert kubelet.get("cgroupDriver") == "cgroupfs"


def _wrapper_config(directory: Path, snippet: Path) -> Path:
    """Write a config that imports the snippet and keeps containerd's dirs in tmp.

    The wrapper has no plugin tables of its own, so the imported tables are kept
    whole (an import replaces a plugin's table rather than merging into it).
    """
    wrapper = directory / "config.toml"
    lines = [
        "version = 2",
        f"root = {json.dumps(str(directory / 'root'))}",
        f"state = {json.dumps(str(directory / 'state'))}",
        f"imports = [{json.dumps(str(snippet))}]",
    ]
    wrapper.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return wrapper


def _config_dump(containerd: str, config: Path) -> dict[str, Any]:
    """Return containerd's merged configuration, as ``config dump`` prints it."""
    result = subprocess.run(
        [containerd, "--config", str(config), "config", "dump"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tomllib.loads(result.stdout)


@pytest.mark.parametrize(
    "snippet",
    [s for s in CONFIG_SNIPPETS if s.page == "containerd.md" and s.lang == "toml"],
    ids=str,
)
def test_containerd_loads_snippet(snippet: Snippet, tmp_path: Path) -> None:
    """A real containerd reads the snippet and keeps pyrunc's handler as written."""
    containerd = shutil.which("containerd")
    if containerd is None:
        pytest.skip("containerd is not installed, so its config dump cannot run")
    snippet_file = tmp_path / "pyrunc.toml"
    snippet_file.write_text(snippet.text, encoding="utf-8")

    dump = _config_dump(containerd, _wrapper_config(tmp_path, snippet_file))

    assert dump.get("root") == str(tmp_path / "root")
    (document,) = snippet.parse()
    for name, written in _containerd_handlers(document).items():
        loaded = _get(dump, "plugins", CRI_PLUGIN, "containerd", "runtimes", name)
        assert loaded.get("runtime_type") == written["runtime_type"] == RUNC_SHIM
        assert loaded.get("options") == written["options"]
