"""Chapter 04: adding likes safely."""

from workshop_app.workshop.exercises.common import Exercise

EXERCISES: dict[int, Exercise] = {}
