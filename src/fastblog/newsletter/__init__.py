"""Email subscriptions: readers subscribe to the site or to one author (double opt-in), and a
post that becomes visible is mailed to them once each, through the mail outbox.

Above posts: it reacts to fastblog.posts.visibility's one event (registered at start-up by
`install`), and posts never import it. See docs/newsletter.md.
"""
