"""WordPress interchange: WXR in and out, and what a site that came from WordPress still needs
(its old URLs and feed addresses). An app that combines others: it may import posts, comments and
core; nothing imports it."""
