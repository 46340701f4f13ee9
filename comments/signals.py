"""Cross-app signal handlers: posts never imports comments, so comments listens to posts."""

from django.dispatch import Signal

# Hooks for apps above comments (federation), which connect to them in their AppConfig.ready();
# comments never imports those apps. Both are sent inside the transaction that made the change:
# receivers that do network work queue it with transaction.on_commit.
#
# A comment became visible to readers (posted, confirmed, approved or found not to be spam).
comment_published = Signal()  # sender=Comment, comment=<Comment>
# A comment stopped being visible: removed by a moderator or marked as spam.
comment_withdrawn = Signal()  # sender=Comment, comment=<Comment>
