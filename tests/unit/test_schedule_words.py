"""A connection's cron schedule in words (wording.schedule_words), as the Connections page says it beside the cron: the
shapes people write said as cron runs them (cronsim: the scheduler's reading, in UTC), any other left unsaid."""

from datetime import UTC, datetime
from itertools import islice

import pytest
from cronsim import CronSim

from affiliate_matrix.wording import schedule_words


@pytest.mark.parametrize(("cron", "said"), [
    ("0 3 * * *", "every day at 03:00 UTC"),
    ("0 15,3 * * *", "every day at 03:00 and 15:00 UTC"),
    ("*/15 * * * *", "every 15 minutes"),
    ("* * * * *", "every minute"),
    ("15 * * * *", "every hour at minute 15"),
    ("30 */6 * * *", "every 6 hours from 00:30 UTC"),
    ("30 6 * * MON-FRI", "every Monday to Friday at 06:30 UTC"),
    ("0 0 * * sun,3", "every Sunday and Wednesday at 00:00 UTC"),
    ("0 0 * * 7", "every Sunday at 00:00 UTC"),
    ("0 1 1,15 * *", "on days 1 and 15 of the month at 01:00 UTC"),
])
def test_the_shapes_people_write_are_said_as_cron_runs_them(cron, said):
    assert schedule_words(cron) == said
    # (its first runs from a Tuesday midnight fall where the words say)
    runs = list(islice(CronSim(cron, datetime(2026, 12, 1, tzinfo=UTC)), 2))
    assert all(run.tzinfo is not None for run in runs)
    if "day at" in said:
        assert f"{runs[0]:%H:%M}" in said
    if "Monday to Friday" in said:
        assert [f"{run:%A}" for run in runs] == ["Tuesday", "Wednesday"]


@pytest.mark.parametrize("cron", [
    "*/7 * * * *",  # runs at :56 and again at :00: not every 7 minutes
    "0 */5 * * *",  # 20:00 and then 00:00
    "0 3 1 * 1",  # day 1 or a Monday, as cron reads both
    "0 3 * 1 *", "0 3 L * *", "0 3 * * 5#2", "0 3 * * 5-1", "0 3-5 * * *", "0,30 3 * * *",
    "61 3 * * *", "0 24 * * *", "0 3 * * SUNDAY", "0 3", "\u0663 3 * * *",
])
def test_a_cron_the_words_cannot_say_is_left_unsaid(cron):
    assert schedule_words(cron) is None


@pytest.mark.parametrize("cron", ["0 3 * * 0-7", "0 3 * * 0,7", "0 3 * * 1-5,3", "0 3 * * MON,mon"])
def test_a_weekday_field_naming_a_day_twice_is_left_unsaid(cron):
    """0-7 runs every day (7 is Sunday again) and was said 'every Sunday to Sunday'; 1-5,3 was 'Monday to Friday
    and Wednesday', 0,7 'Sunday and Sunday'."""
    assert schedule_words(cron) is None


@pytest.mark.parametrize("cron", ["0 " + "1" * 5000 + " * * *", "0 3 * * " + "1" * 5000, "*/" + "1" * 5000 + " * * * *",
                                  "0 3 " + "1" * 5000 + " * *"])
def test_a_number_of_thousands_of_digits_is_left_unsaid_not_an_error(cron):
    """int() refuses text of over 4,300 digits (ValueError), which a stored rule's schedule (its model checks five
    fields only) carried out of the Rules page as a 500."""
    assert schedule_words(cron) is None


def test_a_number_with_leading_zeros_is_read_as_cron_reads_it():
    assert schedule_words("0 003 * * *") == "every day at 03:00 UTC"
