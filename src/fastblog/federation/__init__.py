"""ActivityPub: every author is a fediverse actor (a Person at their author page's address).

- Found and read: WebFinger, NodeInfo, the Person, its outbox of Create{Article}, each post
  as an Article at its own address (routes.py, documents.py).
- The inbox (actor and shared) checks the HTTP signature (signatures.py), then queues the
  activity (202); a worker, one process of the cluster at a time, handles the queue
  (inbox.py): follows, replies that become comments, likes and boosts counted.
- Delivery: a post becoming visible, edited or deleted (fastblog.posts.visibility's events)
  writes one delivery per follower inbox in the same transaction; every process sends what is
  due, signed, retried with doubling waits (delivery.py).

Above posts and comments: posts never import it. See docs/federation.md.
"""
