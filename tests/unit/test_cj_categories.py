"""CJ's primary category is a parent and a child within it: the program's category is the most specific one of ours,
read from CJ's recorded answers."""

import pytest

from affiliate_matrix import taxonomy
from affiliate_matrix.sources import get_source
from affiliate_matrix.sources.cj import read_page


def categories_of(page: str) -> dict[str, list[str]]:
    listings, _ = read_page(get_source("cj")().decode(page.encode()), "https://api.example/cj")
    return {listing.name: taxonomy.categories(listing.categories) for listing in listings}


def recorded(name: str) -> str:
    return (get_source("cj").recorded_dir() / name).read_text()


def test_the_child_category_stands_without_its_broad_parent():
    """Bluehost (Computer & Electronics / Web Hosting/Servers) was in electronics beside hosting_domains."""
    assert categories_of(recorded("advertisers-1.xml"))["Bluehost"] == ["hosting_domains"]
    assert categories_of(recorded("advertisers-2.xml"))["NordVPN"] == ["vpn_security"]  # not software too


@pytest.mark.parametrize("child, expected", [("Underwater Basket Weaving", ["electronics"]), ("", ["electronics"])])
def test_the_parent_category_stands_when_the_child_is_none_of_ours(child, expected):
    page = recorded("advertisers-1.xml").replace("<child>Web Hosting/Servers</child>", f"<child>{child}</child>")
    assert categories_of(page)["Bluehost"] == expected
