"""The templates' compiled cache (web/render.py): the image's build compiles every template into it, and a page
then renders from it, without compiling, as its source renders."""

from pathlib import Path

from affiliate_matrix.web import render

TEMPLATES = Path(render.__file__).parent / "templates"
SIGN_IN = dict(csrf="c", signed_in=False, path="/signin", next="/programs", refused=True, sessions_per_token=20)


def test_a_page_renders_from_the_compiled_cache_as_from_its_source(tmp_path, monkeypatch):
    monkeypatch.setattr(render, "COMPILED", tmp_path / "compiled")
    render.environment.cache_clear()  # built once per process: rebuilt here, and again below as a new process would
    try:
        from_source = render.render("signin.html", **SIGN_IN)  # no cache directory: compiled in memory
        render.compile_templates()
        assert len(list((tmp_path / "compiled").iterdir())) == len(list(TEMPLATES.glob("*.html")))

        render.environment.cache_clear()

        def compile_again(*args, **kwargs):
            raise AssertionError("compiled again: the cache was not used")

        monkeypatch.setattr(render.environment(), "compile", compile_again)
        assert render.render("signin.html", **SIGN_IN) == from_source
    finally:
        render.environment.cache_clear()


def test_a_template_the_cache_cannot_take_is_rendered_from_memory(tmp_path, monkeypatch):
    """The image's package is read-only to the function's user: a template missing from the cache must still render.
    (Root writes through any mode bits here, so the directory is taken away instead: the write fails the same way.)"""
    compiled = tmp_path / "compiled"
    compiled.mkdir()
    monkeypatch.setattr(render, "COMPILED", compiled)
    render.environment.cache_clear()
    try:
        render.environment()  # the cache is chosen while the directory exists
        compiled.rmdir()
        assert "csrf" in render.render("signin.html", **SIGN_IN)
        assert not compiled.exists()
    finally:
        render.environment.cache_clear()
