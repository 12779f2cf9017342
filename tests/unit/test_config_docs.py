"""Every config field carries a docstring: the config classes are the user's reference."""

import ast
from pathlib import Path

import rlvr.configs

CONFIG_DIR = Path(rlvr.configs.__file__).parent


def _is_doc(node: ast.stmt | None) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _undocumented(path: Path) -> list[str]:
    """Fields of every class in ``path`` not followed by a string literal (discriminator tags
    ``name``/``kind`` and ClassVars are exempt: the class docstring says what they select)."""
    missing = []
    for cls in (n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ClassDef)):
        for i, stmt in enumerate(cls.body):
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            field, annotation = stmt.target.id, ast.unparse(stmt.annotation)
            if "ClassVar" in annotation or (field in ("name", "kind") and "Literal" in annotation):
                continue
            following = cls.body[i + 1] if i + 1 < len(cls.body) else None
            if not _is_doc(following):
                missing.append(f"{path.name}:{stmt.lineno} {cls.name}.{field}")
    return missing


def test_every_config_field_has_a_docstring():
    missing = [m for path in sorted(CONFIG_DIR.glob("*.py")) for m in _undocumented(path)]
    assert not missing, "config fields without a docstring:\n" + "\n".join(missing)


def test_the_check_sees_a_missing_docstring(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('class A:\n    name: Literal["a"] = "a"\n    x: int = 1\n    y: int = 2\n'
                      '    """Documented."""\n')
    assert _undocumented(sample) == ["sample.py:3 A.x"]
