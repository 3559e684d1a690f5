"""The model catalog: listing, prices, model pages, galleries and the models API."""
