"""Territory API: territories (with match, members, grants), territory models, realignment jobs."""

from django.contrib.auth.models import Group
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from salesapp.access import CHANGE, DELETE, VIEW
from salesapp.api.permissions import role_permission
from salesapp.models import User
from territories import realignment, selectors, services
from territories.api import serializers as s
from territories.filtersets import RealignmentJobFilterSet, TerritoryFilterSet, TerritoryModelFilterSet
from territories.matching import territory_match
from territories.models import RealignmentJob, Territory, TerritoryMember, TerritoryModel

TerritoryPermission = role_permission(read="territory:read", write="territory:assign")


def _action(request) -> str:
    """The access action a request needs: reads view, DELETE deletes, other writes change."""
    if request.method in SAFE_METHODS:
        return VIEW
    return DELETE if request.method == "DELETE" else CHANGE


class TerritoryViewSet(viewsets.ModelViewSet):
    """Territories the user may see; `territory:assign` (admins, sales managers) for every write."""

    queryset = Territory.objects.none()
    serializer_class = s.TerritorySerializer
    filterset_class = TerritoryFilterSet
    permission_classes = [TerritoryPermission]
    ordering_fields = ["id", "name", "priority", "created_at"]
    ordering = ["id"]

    def get_queryset(self):
        return selectors.territory_list(user=self.request.user, action=_action(self.request))

    def perform_create(self, serializer):
        serializer.instance = services.territory_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("model", None)  # a territory stays in its model
        serializer.instance = services.territory_update(
            actor=self.request.user, territory=serializer.instance, **data
        )

    def perform_destroy(self, instance):
        services.territory_delete(actor=self.request.user, territory=instance)

    @extend_schema(parameters=[s.MatchQuerySerializer], responses=s.MatchSerializer)
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def match(self, request):
        """The active territory a record with these attributes belongs to, and why."""
        query = s.MatchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = territory_match(query.validated_data)
        t = result.territory
        return Response({
            "territory": {"id": t.pk, "name": t.name} if t else None,
            "reason": result.reason,
            "explanation": result.explanation,
        })

    @extend_schema(methods=["get"], responses=s.MemberSerializer(many=True))
    @extend_schema(methods=["post"], request=s.MemberSerializer, responses={201: s.MemberSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def members(self, request, pk=None):
        """List members, or add one (`user`, optional `daily_capacity`): they hold the territory."""
        territory = self.get_object()
        if request.method == "GET":
            return Response(s.MemberSerializer(selectors.territory_members(territory), many=True).data)
        body = s.MemberSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        member = services.territory_member_add(
            actor=request.user, territory=territory, user=body.validated_data["user"],
            daily_capacity=body.validated_data.get("daily_capacity"),
        )
        return Response(s.MemberSerializer(member).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["patch"], request=s.MemberUpdateSerializer, responses=s.MemberSerializer)
    @extend_schema(methods=["delete"], request=None, responses={204: None})
    @action(detail=True, methods=["patch", "delete"], url_path="members/<id:user_id>",
            pagination_class=None, filterset_class=None)
    def member(self, request, pk=None, user_id=None):
        """Change a member's daily capacity, or remove the member (they stop holding the territory)."""
        territory = self.get_object()
        member = get_object_or_404(TerritoryMember.objects.select_related("user", "territory"),
                                   territory=territory, user_id=user_id)
        if request.method == "DELETE":
            services.territory_member_remove(actor=request.user, member=member)
            return Response(status=status.HTTP_204_NO_CONTENT)
        body = s.MemberUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        member = services.territory_member_update(actor=request.user, member=member, **body.validated_data)
        return Response(s.MemberSerializer(member).data)

    @extend_schema(methods=["get"], responses=s.GrantsSerializer)
    @extend_schema(methods=["post"], request=s.GrantWriteSerializer, responses={201: s.GrantsSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def grants(self, request, pk=None):
        """Who holds the territory through grants; add a `user` or a `group` (access without routing)."""
        territory = self.get_object()
        if request.method == "POST":
            body = s.GrantWriteSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            services.territory_grant_add(actor=request.user, territory=territory,
                                         user=body.validated_data.get("user"), group=body.validated_data.get("group"))
            return Response(s.GrantsSerializer(selectors.territory_grants(territory)).data,
                            status=status.HTTP_201_CREATED)
        return Response(s.GrantsSerializer(selectors.territory_grants(territory)).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path="grants/<slug:kind>/<id:grantee_id>",
            pagination_class=None, filterset_class=None)
    def grant(self, request, pk=None, kind=None, grantee_id=None):
        """Take a user's or a group's access away."""
        if kind not in ("users", "groups"):
            raise Http404("Grants are of users or groups.")
        territory = self.get_object()
        if kind == "users":
            services.territory_grant_remove(actor=request.user, territory=territory,
                                            user=get_object_or_404(User, pk=grantee_id))
        else:
            services.territory_grant_remove(actor=request.user, territory=territory,
                                            group=get_object_or_404(Group, pk=grantee_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TerritoryModelViewSet(viewsets.ModelViewSet):
    """Versions of the territory plan: planning, active (exactly one), archived."""

    queryset = TerritoryModel.objects.none()
    serializer_class = s.TerritoryModelSerializer
    filterset_class = TerritoryModelFilterSet
    permission_classes = [TerritoryPermission]
    ordering_fields = ["id", "name", "created_at"]
    ordering = ["-id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.territory_model_list(user=self.request.user, action=_action(self.request))

    def _counted(self, model):
        """The model as the list shows it (with its territory count)."""
        return selectors.territory_model_list(user=self.request.user).get(pk=model.pk)

    def perform_create(self, serializer):
        serializer.instance = self._counted(
            services.territory_model_create(actor=self.request.user, **serializer.validated_data))

    def perform_update(self, serializer):
        serializer.instance = self._counted(services.territory_model_update(
            actor=self.request.user, model=serializer.instance,
            name=serializer.validated_data.get("name", serializer.instance.name),
        ))

    def perform_destroy(self, instance):
        services.territory_model_delete(actor=self.request.user, model=instance)

    @extend_schema(request=s.PreviewRequestSerializer, responses={202: s.RealignmentJobSerializer})
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        """Preview the moves if this model (with optional unsaved rule `changes`) were applied."""
        body = s.PreviewRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = realignment.realignment_preview_start(
            actor=request.user, model=self.get_object(), rule_changes=body.validated_data.get("changes"),
            batch_size=body.validated_data.get("batch_size", 500),
        )
        job.refresh_from_db()
        return Response(s.RealignmentJobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=s.ActivateRequestSerializer, responses={202: s.RealignmentJobSerializer})
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        """Apply a previewed `job` of this model, or (without one) preview and apply at once.

        Activating a planning model archives the active one; records then move in batches.
        """
        model = self.get_object()
        body = s.ActivateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if body.validated_data.get("job"):
            job = get_object_or_404(selectors.realignment_job_list(user=request.user, action=CHANGE),
                                    pk=body.validated_data["job"], model=model)
            job = realignment.realignment_apply(actor=request.user, job=job)
        else:
            job = realignment.realignment_preview_start(actor=request.user, model=model, auto_apply=True)
        job.refresh_from_db()
        return Response(s.RealignmentJobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=s.CloneRequestSerializer, responses={201: s.TerritoryModelSerializer})
    @action(detail=True, methods=["post"])
    def clone(self, request, pk=None):
        """Copy this model (rules, hierarchy, members, grants) into a new planning model."""
        body = s.CloneRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        model = services.territory_model_clone(actor=request.user, source=self.get_object(),
                                               name=body.validated_data["name"])
        return Response(s.TerritoryModelSerializer(self._counted(model)).data, status=status.HTTP_201_CREATED)


class RealignmentJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Realignment previews and their progress; apply, resume or cancel them."""

    queryset = RealignmentJob.objects.none()
    serializer_class = s.RealignmentJobSerializer
    filterset_class = RealignmentJobFilterSet
    # A job spans records of every territory: planners only.
    permission_classes = [role_permission(read="territory:assign", write="territory:assign")]
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]

    def get_queryset(self):
        return selectors.realignment_job_list(user=self.request.user, action=_action(self.request))

    @extend_schema(request=None, responses={202: s.RealignmentJobSerializer})
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        """Apply a previewed job, or resume a failed one from its checkpoint."""
        job = realignment.realignment_apply(actor=request.user, job=self.get_object())
        job.refresh_from_db()
        return Response(s.RealignmentJobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: s.RealignmentJobSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Resume a failed job: the applied batches stay, the rest follow."""
        return self.apply(request, pk)

    @extend_schema(request=None, responses=s.RealignmentJobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = realignment.realignment_cancel(actor=request.user, job=self.get_object())
        return Response(s.RealignmentJobSerializer(job, context={"request": request}).data)

    @extend_schema(responses=s.RealignmentMoveSerializer(many=True),
                   parameters=[OpenApiParameter("record_type", str, required=False)])
    @action(detail=True, methods=["get"], filterset_class=None)
    def moves(self, request, pk=None):
        """Every planned move of the job (cursor-paginated)."""
        job = self.get_object()
        qs = job.moves.all()
        if request.query_params.get("record_type"):
            qs = qs.filter(record_type=request.query_params["record_type"])
        self.ordering = ["id"]
        page = self.paginate_queryset(qs.order_by("id"))
        return self.get_paginated_response(
            s.RealignmentMoveSerializer(page, many=True, context={"request": request}).data
        )
