# tests/gen: synthetic capture generator (espgen) with ground truth.
