"""Kernel API: current user, user administration, the event stream."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from salesapp import selectors, services
from salesapp.api.permissions import role_permission
from salesapp.api.serializers import (
    EventSerializer,
    UnlockResultSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from salesapp.filters import DateTimeFilter, IdFilter
from salesapp.models import OutboxEvent, User
from salesapp.signin import signin_unlock


class MeView(APIView):
    """The signed-in user."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user, context={"request": request}).data)


class UserFilter(django_filters.FilterSet):
    role = django_filters.CharFilter()
    manager = IdFilter(field_name="manager_id")
    is_active = django_filters.BooleanFilter()
    email = django_filters.CharFilter(lookup_expr="icontains")


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Users: everyone reads their own subtree; admins create, change, deactivate."""

    queryset = User.objects.none()  # per request: get_queryset
    filterset_class = UserFilter
    ordering_fields = ["id", "email", "date_joined"]
    ordering = ["id"]
    permission_classes = [role_permission(write="user:manage")]

    def get_queryset(self):
        return selectors.user_list(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return UserCreateSerializer
        if self.action in ("update", "partial_update"):
            return UserUpdateSerializer
        return UserSerializer

    def perform_create(self, serializer):
        serializer.instance = services.user_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.user_update(
            actor=self.request.user, user=serializer.instance, **serializer.validated_data
        )

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Deactivate a user; their sessions and tokens end at once. Not yourself, not the last active admin."""
        user = services.user_deactivate(actor=request.user, user=self.get_object())
        return Response(self.get_serializer(user).data, status=status.HTTP_200_OK)

    @extend_schema(request=None, responses=UnlockResultSerializer)
    @action(detail=True, methods=["post"])
    def unlock(self, request, pk=None):
        """Let a user locked out by failed sign-ins sign in again now (admins)."""
        user = self.get_object()
        removed = signin_unlock(actor=request.user, user=user)
        return Response({"id": user.pk, "email": user.email, "failure_records_removed": removed})


class EventFilter(django_filters.FilterSet):
    name = django_filters.CharFilter()
    since = DateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = OutboxEvent
        fields = ["name", "since"]


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """Published events, newest first (admins and integrations)."""

    queryset = OutboxEvent.objects.all()
    serializer_class = EventSerializer
    filterset_class = EventFilter
    permission_classes = [role_permission(read="event:read")]
    ordering = ["-created_at"]
    ordering_fields = ["created_at"]
