"""Uploaded files: the store they live in (a folder or a bucket), pictures for posts (checked,
stripped of their metadata, resized into variants with content-hashed names) and their rows.

Below posts in the package chain: posts link to pictures by URL and ask this package what it
knows about them; nothing here imports posts.
"""
