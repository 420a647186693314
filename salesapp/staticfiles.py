"""Static-file storage for production: hashed, compressed, tolerant of absent source maps.

Vendored minified files (Bootstrap, Chart.js) end in a `sourceMappingURL`
comment naming a `.map` we do not ship. Django's manifest storage rewrites
those comments and fails on the missing file; browsers only fetch maps with
the developer tools open, so the comments are left as they are.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns):
    def keep(pattern):
        regex = pattern[0] if isinstance(pattern, tuple) else pattern
        return "sourceMappingURL" not in regex

    return tuple((glob, tuple(p for p in rules if keep(p))) for glob, rules in patterns)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's hashed, compressed storage without source-map rewriting."""

    patterns = _without_source_maps(CompressedManifestStaticFilesStorage.patterns)
