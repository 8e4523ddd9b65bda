"""Writes addresses.csv: the demo town's street grid around the default map centre, OpenAddresses-style.

Run by hand when the demo town changes (`.venv/bin/python cameras/demo/make_addresses.py`); seed_demo
imports the file it writes. Streets are straight lines east-west and north-south of the centre, with
US-style numbers (a hundred per block of 100 m, even on one side and odd on the other) every 50 m.
"""

import csv
import hashlib
import math
from pathlib import Path

CENTRE = (40.7128, -74.0060)  # MAP_CENTER_LAT / MAP_CENTER_LNG's defaults
CITY, REGION = "Riverton", "NY"
HALF_LENGTH_M = 2000
SPACING_M = 50
SETBACK_M = 15
# (name, metres from the centre: north for east-west streets, east for north-south ones)
EAST_WEST = [("Water St", -1900), ("Mill Rd", -1300), ("Bridge St", -800), ("Church St", -350), ("Main St", 0),
             ("Market St", 111), ("Union St", 550), ("High St", 1200)]
NORTH_SOUTH = [("River Rd", -1850), ("Cedar Ln", -1200), ("Pine St", -650), ("Elm St", -300), ("Park Ave", 0),
               ("Oak Ave", 350), ("Maple St", 900), ("Lincoln Ave", 1600)]
METRES_PER_DEGREE = 111_195


def point(east_m, north_m):
    lat = CENTRE[0] + north_m / METRES_PER_DEGREE
    lng = CENTRE[1] + east_m / (METRES_PER_DEGREE * math.cos(math.radians(CENTRE[0])))
    return round(lat, 7), round(lng, 7)


def postcode(east_m, north_m):
    return {(False, False): "10561", (True, False): "10562", (False, True): "10563", (True, True): "10564"}[
        (east_m >= 0, north_m >= 0)]


def rows():
    for street, offset in EAST_WEST + NORTH_SOUTH:
        along_east_west = (street, offset) in EAST_WEST
        for along in range(-HALF_LENGTH_M + SPACING_M // 2, HALF_LENGTH_M, SPACING_M):
            from_start = along + HALF_LENGTH_M
            for side in (0, 1):  # even numbers north or east of the street, odd south or west
                number = (from_start // 100) * 100 + (from_start % 100) // 10 * 2 + side
                shift = SETBACK_M if side == 0 else -SETBACK_M
                east, north = (along, offset + shift) if along_east_west else (offset + shift, along)
                lat, lng = point(east, north)
                unit = "Apt 2" if number % 7 == 0 and street in ("Main St", "Market St") else ""
                values = [f"{lng}", f"{lat}", str(number), street, unit, CITY, "", REGION, postcode(east, north)]
                yield values + ["", hashlib.sha256(",".join(values).encode()).hexdigest()[:16]]


if __name__ == "__main__":
    target = Path(__file__).with_name("addresses.csv")
    with target.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["LON", "LAT", "NUMBER", "STREET", "UNIT", "CITY", "DISTRICT", "REGION", "POSTCODE", "ID",
                         "HASH"])
        writer.writerows(rows())
    print(f"Wrote {target}")
