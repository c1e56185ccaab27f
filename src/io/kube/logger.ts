/** The watch layer logs through Hermod's one logger shape (src/actors/logger.ts). */
export { silentLogger, type Logger as KubeLogger } from '../../actors/logger.js';
