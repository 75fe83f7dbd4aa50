"""The merchants' answers of the programs API (GET /merchants, GET /merchants/{key}), apart from
program_shapes.py so that a start and a first search do not build them."""

from typing import Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field

from affiliate_matrix.handlers.routes import Shape


class MerchantSummary(Shape):
    model_config = ConfigDict(extra="forbid")
    merchant_key: str
    merchant: str
    domain: str | None
    programs: int
    networks: list[str] = Field(description="The networks its matching programs are listed on, each by the index's "
                                            "key (what the `network` filter takes)")
    network_titles: dict[str, str] = Field(description=(
        "Each of `networks` by the name people read (what the explorer shows): its proper name where a plugin or the "
        "taxonomy names it ('CJ' for cj), else as its sources wrote it ('MaxBounty' for maxbounty: the title of the "
        "program first seen titling it), else its key"))


class Merchants(Shape):
    items: list[MerchantSummary] = Field(description="The first `limit` merchants, in the order of their most "
                                                     "relevant matching program.")
    more: bool = Field(description="Other merchants match too: narrow q, raise limit (at most 100), or page on by "
                                   "next_cursor.")
    next_cursor: str | None = Field(description="The cursor of the page after this one (the merchants after these), "
                                                "null on the last; pass it back as `cursor`, the other parameters as "
                                                "they were.")
    cut: bool = Field(description="More than 10,000 matching programs had to be read (a merchant with that many): the "
                                  "list or the counts are of the first 10,000 read.")
    errors: list[dict[str, Any]] | None = Field(None, description=(
        "The matching programs left out as damaged (a document of the index not of a program's shape), not counted: "
        "each one's id (key) and what is wrong (error); also counted in X-Damaged-Items."))


class SourceRow(Shape):
    """What one source's connection says about one of the merchant's programs."""
    model_config = ConfigDict(extra="forbid")
    program_id: str
    kind: str
    name: str
    source: str
    connection_id: str | None = Field(description="The connection (account) the row's claims came through; two of "
                                                  "one source are two rows. None: claims recorded before claims named "
                                                  "their connection")
    url: str
    seen_at: AwareDatetime  # answered as every time is, in UTC ending in Z (merchants.merchant_view writes it)
    commission: list
    commission_text: str | None
    cookie_days: int | None
    payout: dict | None
    network: str | None = Field(description="The network the row's source lists the program on, by the index's key "
                                            "(what the `network` filter takes)")
    network_title: str | None = Field(description=(
        "`network` by the name people read (what the explorer shows): its proper name where a plugin or the taxonomy "
        "names it ('CJ' for cj), else as the row's source wrote it ('MaxBounty' for maxbounty), or, where it wrote "
        "none, as the program first seen titling it holds it, else its key"))
    join_url: str | None
    contract: str | None = Field(description="The row's account's relationship with the program as its network says "
                                             "it: joined, pending, not_joined or expired (Impact's Active contract "
                                             "and CJ's joined are joined); that account's fact, not the program's")
    countries: list
    epc_7d: dict | None = Field(description="Earnings per click over 7 days the row's source reports, "
                                            "{amount, currency}")
    epc_90d: dict | None = Field(description="Earnings per click over 3 months the row's source reports, "
                                             "{amount, currency} (Awin reports only this one, CJ both)")
    approval_rate: float | None
    last_verified_at: AwareDatetime | None
    restrictions: list
    best: list[Literal["commission_percent", "commission_flat", "cookie_days"]]
    disputed: list[Literal["commission", "cookie_days", "payout"]] = Field(description=(
        "The fields of this row's own claims that the program's other sources contradict (`conflicts` says what each "
        "said); not a field its source said nothing of"))
    held: list[Literal["commission", "cookie_days", "payout"]] = Field(description=(
        "The fields of which this row's claim is the program's value (where sources disagree, the side the merge "
        "kept: the most sources, then the source of highest priority, then the value shown before, then the newest)"))


class MerchantView(Shape):
    model_config = ConfigDict(extra="forbid")
    merchant_key: str
    merchant: str
    domain: str | None
    rows: list[SourceRow]
    conflicts: dict[str, dict[str, dict[str, Any]]] = Field(description=(
        "program id -> field -> what each source said; a source with two connections that claim the field (two "
        "accounts of a network) by each connection, named as `awin (awin-agency)`"))
    errors: list[dict[str, Any]] | None = Field(None, description=(
        "The merchant's programs left out as damaged (a document of the index not of a program's shape): each one's "
        "id (key) and what is wrong (error); also counted in X-Damaged-Items."))
