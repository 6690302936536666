export { text } from '../shared/text';
