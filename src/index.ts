export * from './database-migration';
export * from './gate';
export { MigrationLedger } from './migration-ledger';
export { PostDeployMigration } from './post-deploy-migration';
export * from './migrated-service';
export * from './waiter';
export * from './delivery';
export * from './migration-tool';
export * from './image-tag';
