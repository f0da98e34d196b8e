"""The shared test kit: a seeded cast of employees, API helpers and a movable clock."""
