"""What the HTML pages share: the browser session, CSRF, flash messages, form errors
(`fastblog.web.session`) and the one Jinja2 environment (`fastblog.web.templating`)."""
