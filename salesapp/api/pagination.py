"""Cursor pagination for every list (stable under inserts, index-friendly)."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """`?cursor=` pages of `page_size` (max 200), newest first unless `?ordering=`."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200
