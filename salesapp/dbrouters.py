"""Routes reads to the read replica when DATABASE_REPLICA_URL is set; writes always to the primary.

Which reads may use the replica is decided in one place, `salesapp.replicas`.
"""

from salesapp import replicas


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return replicas.read_alias()

    def db_for_write(self, model, **hints):
        return replicas.PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == replicas.PRIMARY
