"""Rating maths on plain numbers and numpy arrays: no Flask, no SQL."""
