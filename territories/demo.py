"""Demo territories: a small plan of record, members from the demo reps, and a draft re-plan."""

from territories import services
from territories.models import TerritoryModel


def load_demo(users: dict) -> None:
    admin, manager = users["admin"], users["manager"]
    west, east, europe = users["reps"]
    model = services.territory_model_default()
    if model.name == "Current plan":
        services.territory_model_update(actor=admin, model=model, name="FY27 plan")
    na = services.territory_create(actor=admin, model=model, name="North America", type="geographic",
                                   owner=manager, countries=["US", "CA"], priority=10)
    west_tech = services.territory_create(actor=admin, model=model, name="US West Tech", type="industry",
                                          parent=na, owner=manager, states=["CA", "WA"], industry="technology",
                                          priority=20)
    us_east = services.territory_create(actor=admin, model=model, name="US East", type="geographic", parent=na,
                                        owner=manager, countries=["US"],
                                        states=["NY", "NJ", "MA", "PA", "CT", "VA", "FL", "GA"], priority=10)
    emea = services.territory_create(actor=admin, model=model, name="EMEA", type="geographic", owner=manager,
                                     countries=["GB", "DE", "FR", "NL", "ES", "IT", "SE", "IE"], priority=10)
    services.territory_create(actor=admin, model=model, name="EMEA Enterprise", type="account", parent=emea,
                              owner=manager, min_employee_count=1000, priority=5)
    services.territory_member_add(actor=admin, territory=west_tech, user=west, daily_capacity=25)
    services.territory_member_add(actor=admin, territory=us_east, user=east, daily_capacity=20)
    services.territory_member_add(actor=admin, territory=emea, user=europe, daily_capacity=15)
    # A draft re-plan: US West Tech also takes Oregon. Preview it from the territories page.
    draft = services.territory_model_clone(actor=admin, source=model, name="FY28 draft: West adds Oregon")
    draft_west = draft.territories.get(name="US West Tech")
    services.territory_update(actor=admin, territory=draft_west, states=["CA", "WA", "OR"])
    assert draft.state == TerritoryModel.State.PLANNING
