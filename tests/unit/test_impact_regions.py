"""Impact's region names become ISO country codes; one we cannot map is dropped and said so in
the logs, never kept as if it were a code."""

from structlog.testing import capture_logs

from affiliate_matrix.sources.impact import region_codes


def test_region_names_map_to_iso_codes_and_an_unknown_one_is_dropped_with_a_warning():
    with capture_logs() as logs:
        codes = region_codes(["US", "UK", "CANADA", "Worldwide", "de", "LATAM", "EU"], "11877")
    assert codes == ["CA", "DE", "GB", "US"]
    warned = [(e["event"], e["region"], e["campaign_id"]) for e in logs if e["log_level"] == "warning"]
    assert warned == [("impact.region_unknown", "LATAM", "11877"), ("impact.region_unknown", "EU", "11877")]
