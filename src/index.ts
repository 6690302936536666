export * from './migrated-service';
export * from './waiter';
export * from './delivery';
export * from './migration-tool';
export * from './image-tag';
