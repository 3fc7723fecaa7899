"""Korean date formats: "2026년 12월 4일 (금) 14:30" (year, month, day, weekday in brackets)."""

DATETIME_FORMAT = "Y년 n월 j일 (D) H:i"
DATE_FORMAT = "Y년 n월 j일 (D)"
SHORT_DATE_FORMAT = "Y년 n월 j일"
SHORT_DATETIME_FORMAT = "Y년 n월 j일 H:i"
MONTH_DAY_FORMAT = "n월 j일"
YEAR_MONTH_FORMAT = "Y년 n월"
TIME_FORMAT = "H:i"

DAY_TIME_FORMAT = "n월 j일 (D) H:i"
WEEKDAY_TIME_FORMAT = "(D) H:i"
WEEKDAY_DATE_FORMAT = "n월 j일 (D)"
