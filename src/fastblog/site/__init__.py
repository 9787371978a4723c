"""The site as its owner sets it up: the settings every page reads (title, navigation, footer,
sign-up and comment rules, time zone), kept in one row and cached in each process
(`fastblog.site.store`), and the static pages (About, Contact) served at /{slug}.

A low layer: pages, posts and accounts read the settings; the routes that change them (admin
only) live in `fastblog.admin`, above every domain."""
