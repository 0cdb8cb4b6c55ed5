"""Safe, unique file names and unique column names."""

from __future__ import annotations

from rawexport.export.names import safe_file_name, unique_name


def test_keeps_letters_digits_dash_underscore_dot() -> None:
    assert safe_file_name("Level-up_2.final", ".csv", set()) == "Level-up_2.final.csv"


def test_replaces_every_other_character() -> None:
    assert safe_file_name("../a b/c:d\\é", ".csv", set()) == ".._a_b_c_d__.csv"


def test_collisions_get_numbered_suffixes_ignoring_case() -> None:
    taken = {"users.csv", "manifest.json"}
    names = [safe_file_name(s, ".csv", taken) for s in ("users", "lu", "LU", "l/u", "lu_2")]
    assert names == ["users_2.csv", "lu.csv", "LU_2.csv", "l_u.csv", "lu_2_2.csv"]


def test_extension_follows_the_format() -> None:
    assert safe_file_name("lu", ".parquet", set()) == "lu.parquet"
    assert safe_file_name("lu", ".jsonl", {"lu.csv"}) == "lu.jsonl"


def test_empty_and_long_stems_stay_usable() -> None:
    assert safe_file_name("", ".csv", set()) == "_.csv"
    assert safe_file_name("x" * 500, ".csv", set()) == "x" * 120 + ".csv"


def test_unique_column_names_are_case_sensitive() -> None:
    taken = {"level", "time"}
    assert [unique_name(n, taken) for n in ("Level", "level", "level")] == [
        "Level",
        "level_2",
        "level_3",
    ]
