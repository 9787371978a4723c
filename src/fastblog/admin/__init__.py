"""What the site's staff use: the site settings (API and /admin/settings), the static pages
(API, and their pages at /{slug}), and the /admin dashboard. Above every domain: the
dashboard counts posts, comments and accounts, and pages render Markdown as posts do."""
