"""Template tags for Newsroom's admin pages."""

from django import template

from articles.dashboard import attention_items

register = template.Library()


@register.simple_tag(takes_context=True)
def newsroom_attention(context):
    """``{% newsroom_attention as items %}``: the dashboard's items for the current user, or [] for
    a user who may not view articles (the module is then not shown)."""
    user = context["request"].user
    if not (user.has_perm("articles.view_article") or user.has_perm("articles.change_article")):
        return []
    return attention_items(user=user)
