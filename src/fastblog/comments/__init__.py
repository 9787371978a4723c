"""Comments on published posts, and the post page that shows them."""
