"""The catalogue API area: channels' category trees, categories, brands, products, variants,
options, images and custom fields (``common`` says how the modules build on one another), plus the
catalogue's extras kept beside the store (``meta``: metafields, channel assignments, translations;
``parts``: modifiers, bulk pricing, reviews, videos, complex rules)."""
