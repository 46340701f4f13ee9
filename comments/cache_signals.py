"""Discussion changes make cached pages stale (the post page, home counts, feeds, sidebars).

Saving or deleting a comment or linkback, through the site, the admin or a task, bumps the
content version (sectorblog.cachekeys). Code that changes comments with QuerySet.update(), which
sends no signal, must call `content_version_bump()` itself.
"""

from django.db.models.signals import post_delete, post_save

from comments.models import Comment
from sectorblog.cachekeys import content_version_bump

post_save.connect(content_version_bump, sender=Comment, dispatch_uid="content-version-comment-save")
post_delete.connect(content_version_bump, sender=Comment, dispatch_uid="content-version-comment-delete")
