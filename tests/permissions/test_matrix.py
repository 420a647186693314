"""Who sees and changes what: every API operation and every page, as each identity.

The routes come from the OpenAPI schema and the URLconf (tests/permissions/mixin.py);
the expected outcome of each is one row below, one letter per identity, in the order
of IDENTITIES:

    anonymous  admin  manager  rep  other_rep  read_only  bad_token

- `rep` owns every record the routes are called with (lead, account and contact,
  deal, activity, quota, import job) and holds their territory; `manager` is the rep's
  manager; `other_rep` is a rep who does not own them (checked as a rep of another team and
  as the rep's teammate: both get the same answer); `read_only` holds the rep's territory,
  so what they may see they see, and what they would change is refused by role;
  `bad_token` is a forged and an expired JWT (both are sent).
- O allowed, W a write the identity may make (400 for an incomplete body is fine),
  L sign in first (401 / redirect to sign-in), D refused by role (403), H out of sight (404),
  T 401 to every identity: only a scraper with METRICS_TOKEN (sent as a bearer token) is answered.

The rules the rows follow (DESIGN.md "Access", salesapp/roles.py): admins see and do all;
read_only never writes; a rep sees their own records and gets 404 on another team's;
managers see their subtree's; opportunity:delete (and reopen), territory:assign, quota:set,
forecast:adjust, lead:import and lead:delete are the managers' and the admins';
intelligence:train, user:manage and event:read the admins'. Role refusals come before
record lookups, so a rep of another team asking for a manager-only action gets 403.

A route without a row fails `test_every_route_has_an_entry`; a row without a route
fails too. Nothing here is skipped.
"""

import pytest

from tests.permissions.mixin import (
    IDENTITIES,
    PermissionMatrixMixin,
    Route,
    api_operations,
    api_path,
    page_path,
    page_routes,
)

# --- API operations (operationId) ----------------------------------------------------------------------
#                                          anon admin mgr rep other ro bad
API = {
    # sign-in and public forms: no credentials needed, and a bad one is not looked at
    "v1_auth_token_create":                 "W    W    W   W   W    W  W",
    "v1_auth_token_refresh_create":         "W    W    W   W   W    W  W",
    "v1_web_to_lead_create":                "W    W    W   W   W    W  W",
    # users (each sees themselves and their reporting subtree) and the event stream
    "v1_users_me_retrieve":                 "L    O    O   O   O    O  L",
    "v1_users_list":                        "L    O    O   O   O    O  L",
    "v1_users_retrieve":                    "L    O    O   O   H    H  L",
    "v1_users_create":                      "L    W    D   D   D    D  L",
    "v1_users_update":                      "L    W    D   D   D    D  L",
    "v1_users_partial_update":              "L    W    D   D   D    D  L",
    "v1_users_deactivate_create":           "L    W    D   D   D    D  L",
    "v1_users_unlock_create":               "L    W    D   D   D    D  L",
    "v1_events_list":                       "L    O    D   D   D    D  L",
    "v1_events_retrieve":                   "L    O    D   D   D    D  L",
    # search across kinds (each answers only what the user may see)
    "v1_search_retrieve":                   "L    O    O   O   O    O  L",
    # imports (the job is the rep's)
    "v1_imports_kinds_list":                "L    O    O   O   O    O  L",
    "v1_imports_list":                      "L    O    O   O   O    O  L",
    "v1_imports_retrieve":                  "L    O    O   O   H    H  L",
    "v1_imports_create":                    "L    W    W   D   D    D  L",
    "v1_imports_retry_create":              "L    W    W   D   D    D  L",
    # data subject requests (privacy:manage: admins only)
    "v1_privacy_requests_list":             "L    O    D   D   D    D  L",
    "v1_privacy_requests_retrieve":         "L    O    D   D   D    D  L",
    "v1_privacy_requests_archive_retrieve": "L    O    D   D   D    D  L",
    "v1_privacy_requests_create":           "L    W    D   D   D    D  L",
    # leads
    "v1_leads_list":                        "L    O    O   O   O    O  L",
    "v1_leads_export_retrieve":             "L    O    O   O   O    O  L",
    "v1_leads_create":                      "L    W    W   W   W    D  L",
    "v1_leads_retrieve":                    "L    O    O   O   H    O  L",
    "v1_leads_history_list":                "L    O    O   O   H    O  L",
    "v1_leads_duplicates_retrieve":         "L    O    O   O   H    O  L",
    "v1_leads_score_retrieve":              "L    O    O   O   H    O  L",
    "v1_leads_update":                      "L    W    W   W   H    D  L",
    "v1_leads_partial_update":              "L    W    W   W   H    D  L",
    "v1_leads_assign_create":               "L    W    W   W   H    D  L",
    "v1_leads_consent_create":              "L    W    W   W   H    D  L",
    "v1_leads_contact_create":              "L    W    W   W   H    D  L",
    "v1_leads_qualify_create":              "L    W    W   W   H    D  L",
    "v1_leads_disqualify_create":           "L    W    W   W   H    D  L",
    "v1_leads_reopen_create":               "L    W    W   W   H    D  L",
    "v1_leads_convert_create":              "L    W    W   W   H    D  L",
    "v1_leads_merge_create":                "L    W    W   W   H    D  L",
    "v1_leads_destroy":                     "L    W    W   D   D    D  L",
    # accounts and contacts
    "v1_accounts_list":                     "L    O    O   O   O    O  L",
    "v1_accounts_create":                   "L    W    W   W   W    D  L",
    "v1_accounts_retrieve":                 "L    O    O   O   H    O  L",
    "v1_accounts_update":                   "L    W    W   W   H    D  L",
    "v1_accounts_partial_update":           "L    W    W   W   H    D  L",
    "v1_accounts_destroy":                  "L    W    W   D   D    D  L",
    "v1_contacts_list":                     "L    O    O   O   O    O  L",
    "v1_contacts_create":                   "L    W    W   W   W    D  L",
    "v1_contacts_retrieve":                 "L    O    O   O   H    O  L",
    "v1_contacts_update":                   "L    W    W   W   H    D  L",
    "v1_contacts_partial_update":           "L    W    W   W   H    D  L",
    "v1_contacts_destroy":                  "L    W    W   W   H    D  L",
    "v1_contacts_consent_create":           "L    W    W   W   H    D  L",
    # deals, stages, loss reasons, pipeline, forecasts
    "v1_opportunities_list":                "L    O    O   O   O    O  L",
    "v1_opportunities_create":              "L    W    W   W   W    D  L",
    "v1_opportunities_bulk_stage_create":   "L    W    W   W   W    D  L",
    "v1_opportunities_export_retrieve":     "L    O    O   O   O    O  L",
    "v1_opportunities_retrieve":            "L    O    O   O   H    O  L",
    "v1_opportunities_history_list":        "L    O    O   O   H    O  L",
    "v1_opportunities_score_retrieve":      "L    O    O   O   H    O  L",
    "v1_opportunities_update":              "L    W    W   W   H    D  L",
    "v1_opportunities_partial_update":      "L    W    W   W   H    D  L",
    "v1_opportunities_close_create":        "L    W    W   W   H    D  L",
    "v1_opportunities_reopen_create":       "L    W    W   D   D    D  L",
    "v1_opportunities_destroy":             "L    W    W   D   D    D  L",
    # the archive: read-only for whoever sees the deal; starting archival and restoring are the managers'
    "v1_archived_opportunities_list":       "L    O    O   O   O    O  L",
    "v1_archived_opportunities_retrieve":   "L    O    O   O   H    O  L",
    "v1_archived_opportunities_restore_create": "L    W    W   D   D    D  L",
    "v1_archive_jobs_create":               "L    W    W   D   D    D  L",
    "v1_archive_jobs_retrieve":             "L    O    O   D   D    D  L",
    "v1_opportunity_stages_list":           "L    O    O   O   O    O  L",
    "v1_opportunity_stages_retrieve":       "L    O    O   O   O    O  L",
    "v1_opportunity_stages_partial_update": "L    W    D   D   D    D  L",
    "v1_loss_reasons_list":                 "L    O    O   O   O    O  L",
    "v1_loss_reasons_retrieve":             "L    O    O   O   O    O  L",
    "v1_loss_reasons_create":               "L    W    D   D   D    D  L",
    "v1_loss_reasons_update":               "L    W    D   D   D    D  L",
    "v1_loss_reasons_partial_update":       "L    W    D   D   D    D  L",
    "v1_loss_reasons_destroy":              "L    W    D   D   D    D  L",
    "v1_pipeline_summary_retrieve":         "L    O    O   O   O    O  L",
    "v1_forecasts_retrieve":                "L    O    O   O   O    O  L",
    "v1_forecasts_create":                  "L    W    W   W   W    D  L",
    "v1_forecasts_snapshots_list":          "L    O    O   O   O    O  L",
    "v1_forecasts_adjustments_list":        "L    O    O   O   O    O  L",
    "v1_forecasts_adjustments_create":      "L    W    W   D   D    D  L",
    # activities and timelines (the activity is on the rep's deal)
    "v1_activities_list":                   "L    O    O   O   O    O  L",
    "v1_activities_create":                 "L    W    W   W   W    D  L",
    "v1_activities_retrieve":               "L    O    O   O   H    O  L",
    "v1_activities_update":                 "L    W    W   W   H    D  L",
    "v1_activities_partial_update":         "L    W    W   W   H    D  L",
    "v1_activities_destroy":                "L    W    W   W   H    D  L",
    "v1_activities_complete_create":        "L    W    W   W   H    D  L",
    "v1_timeline_retrieve":                 "L    O    O   O   H    O  L",
    # territories, territory models, realignment
    "v1_territories_list":                  "L    O    O   O   O    O  L",
    "v1_territories_match_retrieve":        "L    O    O   O   O    O  L",
    "v1_territories_create":                "L    W    W   D   D    D  L",
    "v1_territories_retrieve":              "L    O    O   O   H    O  L",
    "v1_territories_members_list":          "L    O    O   O   H    O  L",
    "v1_territories_grants_retrieve":       "L    O    O   O   H    O  L",
    "v1_territories_update":                "L    W    W   D   D    D  L",
    "v1_territories_partial_update":        "L    W    W   D   D    D  L",
    "v1_territories_destroy":               "L    W    W   D   D    D  L",
    "v1_territories_members_create":        "L    W    W   D   D    D  L",
    "v1_territories_members_partial_update": "L   W    W   D   D    D  L",
    "v1_territories_members_destroy":       "L    W    W   D   D    D  L",
    "v1_territories_grants_create":         "L    W    W   D   D    D  L",
    "v1_territories_grants_destroy":        "L    W    W   D   D    D  L",
    # a plan being drafted (no territory of it is visible yet) is the planners'
    "v1_territory_models_list":             "L    O    O   O   O    O  L",
    "v1_territory_models_retrieve":         "L    O    O   H   H    H  L",
    "v1_territory_models_create":           "L    W    W   D   D    D  L",
    "v1_territory_models_partial_update":   "L    W    W   D   D    D  L",
    "v1_territory_models_destroy":          "L    W    W   D   D    D  L",
    "v1_territory_models_activate_create":  "L    W    W   D   D    D  L",
    "v1_territory_models_clone_create":     "L    W    W   D   D    D  L",
    "v1_territory_models_preview_create":   "L    W    W   D   D    D  L",
    "v1_realignment_jobs_list":             "L    O    O   D   D    D  L",
    "v1_realignment_jobs_retrieve":         "L    O    O   D   D    D  L",
    "v1_realignment_jobs_moves_list":       "L    O    O   D   D    D  L",
    "v1_realignment_jobs_apply_create":     "L    W    W   D   D    D  L",
    "v1_realignment_jobs_cancel_create":    "L    W    W   D   D    D  L",
    "v1_realignment_jobs_resume_create":    "L    W    W   D   D    D  L",
    # quotas (the quota is the rep's)
    "v1_quotas_list":                       "L    O    O   O   O    O  L",
    "v1_quotas_attainment_retrieve":        "L    O    O   O   O    O  L",
    "v1_quotas_rollup_retrieve":            "L    O    O   O   H    H  L",
    "v1_quotas_retrieve":                   "L    O    O   O   H    H  L",
    "v1_quotas_create":                     "L    W    W   D   D    D  L",
    "v1_quotas_update":                     "L    W    W   D   D    D  L",
    "v1_quotas_partial_update":             "L    W    W   D   D    D  L",
    "v1_quotas_destroy":                    "L    W    W   D   D    D  L",
    "v1_quotas_allocate_create":            "L    W    W   D   D    D  L",
    # intelligence (the advice is on the rep's deal)
    "v1_analytics_retrieve":                "L    O    O   O   O    O  L",
    "v1_intelligence_models_list":          "L    O    O   O   O    O  L",
    "v1_intelligence_models_retrieve":      "L    O    O   O   O    O  L",
    "v1_intelligence_models_train_create":  "L    W    D   D   D    D  L",
    "v1_recommendations_list":              "L    O    O   O   H    O  L",
    "v1_recommendations_accept_create":     "L    W    W   W   H    D  L",
    "v1_recommendations_dismiss_create":    "L    W    W   W   H    D  L",
}

# --- pages (route name): method, then one letter per identity -------------------------------------------
#                                                  anon admin mgr rep other ro bad
PAGES = {
    "login":                               ("GET",  "O    O    O   O   O    O  O"),
    # signing out sends everyone to the sign-in page
    "logout":                              ("POST", "L    L    L   L   L    L  L"),
    # passwords: changing yours needs you signed in; a reset by email is open to all (the link is the credential)
    "password_change":                     ("GET",  "L    O    O   O   O    O  L"),
    "password_change_done":                ("GET",  "L    O    O   O   O    O  L"),
    "password_reset":                      ("GET",  "O    O    O   O   O    O  O"),
    "password_reset_done":                 ("GET",  "O    O    O   O   O    O  O"),
    "password_reset_confirm":              ("GET",  "O    O    O   O   O    O  O"),
    "password_reset_complete":             ("GET",  "O    O    O   O   O    O  O"),
    "healthz":                             ("GET",  "O    O    O   O   O    O  O"),
    # Prometheus' scrape: no session or JWT opens it, only METRICS_TOKEN (tests/ops/test_metrics.py)
    "metrics":                             ("GET",  "T    T    T   T   T    T  T"),
    "home":                                ("GET",  "L    O    O   O   O    O  L"),
    "search":                              ("GET",  "L    O    O   O   O    O  L"),
    "search-suggest":                      ("GET",  "L    O    O   O   O    O  L"),
    "search-palette":                      ("GET",  "L    O    O   O   O    O  L"),
    # saved views of lists: everyone signed in keeps their own (the view is the rep's)
    "saved-view-save":                     ("POST", "L    W    W   W   W    W  L"),
    "saved-view-delete":                   ("POST", "L    H    H   W   H    H  L"),

    # a form's state picker for a chosen country (reference data, no record)
    "choice-states":                       ("GET",  "L    O    O   O   O    O  L"),
    # the user menu: your own profile, and how to call the API as yourself
    "profile":                             ("GET",  "L    O    O   O   O    O  L"),
    "api-access":                          ("GET",  "L    O    O   O   O    O  L"),
    # the API's browsable root, schema and docs (API answers: 401 for sign in first)
    "api-root":                            ("GET",  "L    O    O   O   O    O  L"),
    "schema":                              ("GET",  "O    O    O   O   O    O  L"),
    "api-docs":                            ("GET",  "O    O    O   O   O    O  L"),
    # imports (the job is the rep's)
    "imports:new":                         ("GET",  "L    O    O   D   D    D  L"),
    "imports:detail":                      ("GET",  "L    O    O   O   H    H  L"),
    "imports:progress":                    ("GET",  "L    O    O   O   H    H  L"),
    "imports:rerun":                       ("POST", "L    W    W   D   D    D  L"),
    # leads
    "leads:list":                          ("GET",  "L    O    O   O   O    O  L"),
    "leads:export":                        ("GET",  "L    O    O   O   O    O  L"),
    "leads:duplicates":                    ("GET",  "L    O    O   O   O    O  L"),
    "leads:create":                        ("GET",  "L    O    O   O   O    D  L"),
    "leads:bulk":                          ("POST", "L    W    W   W   W    D  L"),
    "leads:detail":                        ("GET",  "L    O    O   O   H    O  L"),
    "leads:edit":                          ("GET",  "L    O    O   O   H    D  L"),
    "leads:convert":                       ("GET",  "L    O    O   O   H    D  L"),
    "leads:assign":                        ("POST", "L    W    W   W   H    D  L"),
    "leads:merge":                         ("POST", "L    W    W   W   H    D  L"),
    "leads:transition":                    ("POST", "L    W    W   W   H    D  L"),
    # accounts, contacts, deals, pipeline, forecast
    "opportunities:account-list":          ("GET",  "L    O    O   O   O    O  L"),
    "opportunities:account-create":        ("GET",  "L    O    O   O   O    D  L"),
    "opportunities:account-detail":        ("GET",  "L    O    O   O   H    O  L"),
    "opportunities:account-edit":          ("GET",  "L    O    O   O   H    D  L"),
    "opportunities:contact-create":        ("GET",  "L    O    O   O   H    D  L"),
    "opportunities:contact-edit":          ("GET",  "L    O    O   O   H    D  L"),
    "opportunities:contact-list":          ("GET",  "L    O    O   O   O    O  L"),
    "opportunities:contact-new":           ("GET",  "L    O    O   O   O    D  L"),
    "opportunities:contact-detail":        ("GET",  "L    O    O   O   H    O  L"),
    "opportunities:list":                  ("GET",  "L    O    O   O   O    O  L"),
    "opportunities:export":                ("GET",  "L    O    O   O   O    O  L"),
    "opportunities:create":                ("GET",  "L    O    O   O   O    D  L"),
    "opportunities:bulk-stage":            ("POST", "L    W    W   W   W    D  L"),
    "opportunities:detail":                ("GET",  "L    O    O   O   H    O  L"),
    "opportunities:edit":                  ("GET",  "L    O    O   O   H    D  L"),
    "opportunities:stage":                 ("POST", "L    W    W   W   H    D  L"),
    "opportunities:field":                 ("POST", "L    W    W   W   H    D  L"),
    "opportunities:close":                 ("POST", "L    W    W   W   H    D  L"),
    "opportunities:reopen":                ("POST", "L    W    W   D   D    D  L"),
    "opportunities:board":                 ("GET",  "L    O    O   O   O    O  L"),
    "opportunities:forecast":              ("GET",  "L    O    O   O   O    O  L"),
    "opportunities:forecast-adjust":       ("POST", "L    W    W   D   D    D  L"),
    # territories
    "territories:tree":                    ("GET",  "L    O    O   O   O    O  L"),
    "territories:match":                   ("GET",  "L    O    O   O   O    O  L"),
    # the admin rule editor's live count of matching records: for the planners
    "territories:rule-matches":            ("GET",  "L    O    O   D   D    D  L"),
    "territories:detail":                  ("GET",  "L    O    O   O   H    O  L"),
    "territories:create":                  ("GET",  "L    O    O   D   D    D  L"),
    "territories:edit":                    ("GET",  "L    O    O   D   D    D  L"),
    "territories:delete":                  ("POST", "L    W    W   D   D    D  L"),
    "territories:member-add":              ("POST", "L    W    W   D   D    D  L"),
    "territories:member-remove":           ("POST", "L    W    W   D   D    D  L"),
    "territories:grant-add":               ("POST", "L    W    W   D   D    D  L"),
    "territories:grant-remove":            ("POST", "L    W    W   D   D    D  L"),
    "territories:model-preview":           ("POST", "L    W    W   D   D    D  L"),
    "territories:model-clone":             ("POST", "L    W    W   D   D    D  L"),
    "territories:job":                     ("GET",  "L    O    O   D   D    D  L"),
    "territories:job-progress":            ("GET",  "L    O    O   D   D    D  L"),
    "territories:job-apply":               ("POST", "L    W    W   D   D    D  L"),
    "territories:job-cancel":              ("POST", "L    W    W   D   D    D  L"),
    # quotas
    "quotas:dashboard":                    ("GET",  "L    O    O   O   O    O  L"),
    "quotas:plan":                         ("GET",  "L    O    O   D   D    D  L"),
    "quotas:plan-table":                   ("GET",  "L    O    O   D   D    D  L"),
    "quotas:plan-cell":                    ("GET",  "L    O    O   D   D    D  L"),
    "quotas:plan-publish":                 ("POST", "L    W    W   D   D    D  L"),
    "quotas:allocate":                     ("GET",  "L    O    O   D   D    D  L"),
    # intelligence
    "intelligence:panel":                  ("GET",  "L    O    O   O   H    O  L"),
    "intelligence:recommendation-decide":  ("POST", "L    W    W   W   H    D  L"),
    "intelligence:analytics":              ("GET",  "L    O    O   O   O    O  L"),
    "intelligence:models":                 ("GET",  "L    O    O   O   O    O  L"),
    # activities (the calendar feed's secret token is its only credential)
    "activities:list":                     ("GET",  "L    O    O   O   O    O  L"),
    "activities:my-tasks":                 ("GET",  "L    O    O   O   O    O  L"),
    "activities:timeline-panel":           ("GET",  "L    O    O   O   H    O  L"),
    "activities:timeline-page":            ("GET",  "L    O    O   O   H    O  L"),
    "activities:log":                      ("POST", "L    W    W   W   H    D  L"),
    "activities:complete":                 ("POST", "L    W    W   W   H    D  L"),
    "activities:calendar-rotate":          ("POST", "L    W    W   W   W    W  L"),
    "activities:calendar-feed":            ("GET",  "O    O    O   O   O    O  O"),
}

# The admin console is one guard (staff, and admins are the only staff): every admin route is
# the admin's; anyone else is sent to the console's own sign-in page. The exceptions below.
ADMIN_SITE = "L    O    L   L   L    L  L"
ADMIN_SITE_REFUSED = "L    D    L   L   L    L  L"
ADMIN_SITE_EXCEPTIONS = {
    # signing in and out is open to all (signing out lands on the console's index)
    "admin:login": "O    O    O   O   O    O  O",
    "admin:logout": "O    O    O   O   O    O  O",
    # no model has a page of its own (get_absolute_url), so "view on site" finds nothing
    "admin:view_on_site": "L    H    L   L   L    L  L",
    # asked without a field to complete, autocomplete refuses
    "admin:autocomplete": ADMIN_SITE_REFUSED,
    # records written by the apps' services (or by the system) are not added or deleted by hand
    **dict.fromkeys([
        "admin:activities_activity_add", "admin:activities_activity_delete",
        # sign-in attempts are recorded by axes, never by hand (deleting an attempt unlocks)
        "admin:axes_accessattempt_add", "admin:axes_accessfailurelog_add", "admin:axes_accesslog_add",
        "admin:auditlog_logentry_add", "admin:auditlog_logentry_delete",
        "admin:intelligence_scoringmodel_add", "admin:salesapp_importjob_add", "admin:leads_lead_add",
        "admin:salesapp_consumerfailure_add",
        "admin:opportunities_account_add", "admin:opportunities_contact_add", "admin:opportunities_opportunity_add",
        # archived deals leave the archive by the restore action only; archive jobs are kept as a record
        "admin:opportunities_archivedopportunity_add", "admin:opportunities_archivedopportunity_delete",
        "admin:opportunities_archivejob_delete",
        "admin:opportunities_stage_add", "admin:opportunities_stage_delete",
        "admin:salesapp_dataaccess_add", "admin:salesapp_dataaccess_delete",
        "admin:territories_realignmentjob_add",
        # requests run as jobs and keep their receipt; retention passes are the record of what ran
        "admin:salesapp_privacyrequest_delete", "admin:salesapp_retentionrun_add",
        "admin:salesapp_retentionrun_delete", "admin:salesapp_erasuretombstone_add",
        "admin:salesapp_erasuretombstone_delete",
        "admin:token_blacklist_outstandingtoken_add", "admin:token_blacklist_outstandingtoken_delete",
    ], ADMIN_SITE_REFUSED),
}
ADMIN_SITE_POST = {"admin:logout"}


# --- what each route is called with ---------------------------------------------------------------------

def api_values(w) -> dict:
    """Placeholders of the API paths; `{id}` and `{key}` by the resource they name."""
    return {
        "report": "win_rate", "kind": "users", "grantee_id": w.read_only.pk, "user_id": w.rep.pk,
        "id": {
            "accounts": w.account.pk, "activities": w.activity.pk, "contacts": w.contact.pk, "events": w.event.pk,
            "imports": w.import_job.pk, "intelligence": w.scoring_model.pk, "leads": w.lead.pk,
            "loss-reasons": w.loss_reason.pk, "opportunities": w.opportunity.pk, "quotas": w.quota.pk,
            "archived-opportunities": w.archived_opportunity.pk, "archive-jobs": w.archive_job.pk,
            "privacy-requests": w.privacy_request.pk,
            "realignment-jobs": w.realignment_job.pk, "recommendations": w.recommendation.pk,
            "territories": w.territory.pk, "territory-models": w.territory_model.pk, "users": w.rep.pk,
        },
        "key": {"opportunity-stages": w.stage.key, "web-to-lead": w.web_form.key},
    }


def resolve_api_path(route: Route, w) -> str:
    values = api_values(w)
    resource = route.template.removeprefix("/api/v1/").split("/")[0]
    for name in ("id", "key"):
        if "{" + name + "}" in route.template:
            values[name] = values[name][resource]
    return api_path(route, values)


def page_kwargs(w) -> dict:
    return {
        "password_reset_confirm": {"uidb64": "MQ", "token": "not-a-token"},
        "imports:detail": {"pk": w.import_job.pk}, "imports:progress": {"pk": w.import_job.pk},
        "imports:rerun": {"pk": w.import_job.pk},
        "leads:detail": {"pk": w.lead.pk}, "leads:edit": {"pk": w.lead.pk}, "leads:convert": {"pk": w.lead.pk},
        "leads:assign": {"pk": w.lead.pk}, "leads:merge": {"pk": w.lead.pk},
        "leads:transition": {"pk": w.lead.pk, "action": "contact"},
        "opportunities:account-detail": {"pk": w.account.pk}, "opportunities:account-edit": {"pk": w.account.pk},
        "opportunities:contact-create": {"account_pk": w.account.pk},
        "opportunities:contact-edit": {"pk": w.contact.pk}, "opportunities:contact-detail": {"pk": w.contact.pk},
        "saved-view-delete": {"pk": w.saved_view.pk},
        "opportunities:detail": {"pk": w.opportunity.pk}, "opportunities:edit": {"pk": w.opportunity.pk},
        "opportunities:stage": {"pk": w.opportunity.pk},
        "opportunities:field": {"pk": w.opportunity.pk, "field": "amount"}, "opportunities:close": {"pk": w.opportunity.pk},
        "opportunities:reopen": {"pk": w.opportunity.pk},
        "territories:detail": {"pk": w.territory.pk}, "territories:edit": {"pk": w.territory.pk},
        "territories:delete": {"pk": w.territory.pk}, "territories:member-add": {"pk": w.territory.pk},
        "territories:member-remove": {"pk": w.territory.pk, "user_id": w.rep.pk},
        "territories:grant-add": {"pk": w.territory.pk},
        "territories:grant-remove": {"pk": w.territory.pk, "kind": "users", "grantee_id": w.read_only.pk},
        "territories:model-preview": {"pk": w.territory_model.pk},
        "territories:model-clone": {"pk": w.territory_model.pk},
        "territories:job": {"pk": w.realignment_job.pk}, "territories:job-progress": {"pk": w.realignment_job.pk},
        "territories:job-apply": {"pk": w.realignment_job.pk}, "territories:job-cancel": {"pk": w.realignment_job.pk},
        "quotas:plan-cell": {"kind": "user", "holder_id": w.rep.pk}, "quotas:allocate": {"pk": w.quota.pk},
        "intelligence:panel": {"kind": "opportunity", "pk": w.opportunity.pk},
        "intelligence:recommendation-decide": {"pk": w.recommendation.pk, "decision": "dismiss"},
        "activities:timeline-page": {"kind": "opportunity", "record_id": w.opportunity.pk},
        "activities:complete": {"activity_id": w.activity.pk},
        "activities:calendar-feed": {"token": w.rep.calendar_token},
    }


def query(w) -> dict:
    """Query strings a route needs to answer at all (the record a panel is about, the period)."""
    about_the_deal = f"?kind=opportunity&id={w.opportunity.pk}"
    period = f"?period={w.quota.period}"
    return {
        "v1_timeline_retrieve": f"?opportunity={w.opportunity.pk}",
        "v1_recommendations_list": f"?opportunity={w.opportunity.pk}",
        "v1_quotas_attainment_retrieve": period, "v1_quotas_rollup_retrieve": f"{period}&user={w.rep.pk}",
        "activities:timeline-panel": about_the_deal, "activities:log": about_the_deal,
    }


def bodies(w) -> dict:
    """Minimal valid bodies where an empty one would be refused before the record is looked up."""
    return {
        "v1_leads_assign_create": {"assigned_to": w.rep.pk},
        "v1_leads_merge_create": {"other_id": w.duplicate_lead.pk},
    }


def admin_kwargs(name: str, pattern: str, w) -> dict:
    """Arguments of an admin route: the rep's own rows where the route names one."""
    kwargs = {}
    for arg in ("object_id", "object_pk", "app_label", "content_type_id", "user_id", "group_id", "id"):
        if f"<{arg}>" in pattern or f"<path:{arg}>" in pattern or f"(?P<{arg}>" in pattern:
            kwargs[arg] = {
                "object_id": w.rep.pk, "object_pk": w.territory.pk, "app_label": "leads",
                "content_type_id": _user_content_type(), "user_id": w.rep.pk, "group_id": w.group.pk, "id": w.rep.pk,
            }[arg]
    return kwargs


def _user_content_type():
    from django.contrib.contenttypes.models import ContentType

    from salesapp.models import User

    return ContentType.objects.get_for_model(User).pk


# --- the matrix ---------------------------------------------------------------------------------------

def _cells(row: str) -> dict[str, str]:
    letters = row.split()
    assert len(letters) == len(IDENTITIES), f"a row needs one letter per identity: {row!r}"
    return dict(zip(IDENTITIES, letters, strict=True))


def admin_site_routes() -> dict[str, str]:
    return {name: pattern for name, pattern in page_routes().items() if name.startswith("admin:")}


def _api_cases():
    for route in api_operations():
        for identity in IDENTITIES:
            yield pytest.param(route, identity, id=f"{route.key}-{identity}")


def _page_cases():
    for name in sorted(page_routes()):
        if name.startswith("admin:"):
            continue
        for identity in IDENTITIES:
            yield pytest.param(name, identity, id=f"{name}-{identity}")


def _admin_cases():
    for name in sorted(admin_site_routes()):
        for identity in IDENTITIES:
            yield pytest.param(name, identity, id=f"{name}-{identity}")


def test_every_route_has_an_entry():
    """Given the schema and the URLconf, every operation and page has a row, and every row a route."""
    operations = {route.key for route in api_operations()}
    pages = {name for name in page_routes() if not name.startswith("admin:")}

    assert sorted(operations - set(API)) == [], "API operations without a row in API"
    assert sorted(set(API) - operations) == [], "rows of API without an operation"
    assert sorted(pages - set(PAGES)) == [], "pages without a row in PAGES"
    assert sorted(set(PAGES) - pages) == [], "rows of PAGES without a page"
    assert sorted(set(ADMIN_SITE_EXCEPTIONS) - set(admin_site_routes())) == [], "admin exceptions without a route"
    for row in [*API.values(), *(cells for _, cells in PAGES.values()), ADMIN_SITE, *ADMIN_SITE_EXCEPTIONS.values()]:
        _cells(row)


@pytest.mark.django_db
class TestApiPermissions(PermissionMatrixMixin):
    @pytest.mark.parametrize(("route", "identity"), list(_api_cases()))
    def test_operation(self, client, world, route, identity):
        path = resolve_api_path(route, world) + query(world).get(route.key, "")

        self.assert_cell(client, world, identity, route=route, path=path, code=_cells(API[route.key])[identity],
                         body=bodies(world).get(route.key))


@pytest.mark.django_db
class TestPagePermissions(PermissionMatrixMixin):
    @pytest.mark.parametrize(("name", "identity"), list(_page_cases()))
    def test_page(self, client, world, name, identity):
        method, row = PAGES[name]
        path = page_path(name, page_kwargs(world).get(name, {}))
        route = Route(name, method, page_routes()[name], api=path.startswith("/api/"))

        self.assert_cell(client, world, identity, route=route, path=path + query(world).get(name, ""),
                         code=_cells(row)[identity])


@pytest.mark.django_db
class TestAdminSitePermissions(PermissionMatrixMixin):
    @pytest.mark.parametrize(("name", "identity"), list(_admin_cases()))
    def test_admin_page(self, client, world, name, identity):
        pattern = admin_site_routes()[name]
        method = "POST" if name in ADMIN_SITE_POST else "GET"
        route = Route(name, method, pattern, api=False)
        path = page_path(name, admin_kwargs(name, pattern, world))

        self.assert_cell(client, world, identity, route=route, path=path,
                         code=_cells(ADMIN_SITE_EXCEPTIONS.get(name, ADMIN_SITE))[identity], admin_site_page=True)
