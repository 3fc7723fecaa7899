"""English date formats: "Fri 4 Dec 2026, 14:30" (day before month, 24-hour clock)."""

DATETIME_FORMAT = "D j M Y, H:i"
DATE_FORMAT = "D j M Y"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "F Y"
TIME_FORMAT = "H:i"

DAY_TIME_FORMAT = "D j M, H:i"
WEEKDAY_TIME_FORMAT = "D H:i"
WEEKDAY_DATE_FORMAT = "D j M"
