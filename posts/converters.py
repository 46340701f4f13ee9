"""Path converters for WordPress-style date permalinks, registered once for every URLconf.

`register()` runs from PostsConfig.ready(), before any URLconf loads, so posts, feeds and the
linkback endpoints all write `<yyyy:year>/<mm:month>/<mm:day>/<postslug:slug>` and none of them
imports another's URL module to get the names.
"""

from django.urls import register_converter


class FourDigitYear:
    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return f"{int(value):04d}"


class TwoDigits:
    regex = "[0-9]{2}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return f"{int(value):02d}"


class PostSlug:
    # Unicode slugs, as WordPress allows; long enough for any real slug, short enough to refuse abuse.
    regex = r"[-\w%]{1,200}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def register() -> None:
    register_converter(FourDigitYear, "yyyy")
    register_converter(TwoDigits, "mm")
    register_converter(PostSlug, "postslug")
