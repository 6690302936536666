export { text } from 'cdk8s-migrated-service/lib/shared/text';
