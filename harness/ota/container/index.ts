export {
  APP_VARIANTS,
  ensureAppImage,
  pushAppImage,
  type AppVariant,
  type PushedImage,
} from './app-images.ts';
export {
  judgeContainerOta,
  runContainerOtaDrill,
  type ContainerOtaDrill,
  type ContainerOtaEvidence,
  type ContainerOtaFault,
  type ContainerOtaResult,
  type ContainerSample,
} from './drills.ts';
export {
  registryUnavailable,
  startRegistry,
  sweepDeadRegistries,
  StartedRegistry,
  RegistryError,
} from './registry.ts';
export {
  ContainerOtaRig,
  parseRegistryAddress,
  REGISTRY_ENV,
  type ContainerOtaRigOptions,
  type RegistryEndpoint,
  containerOtaUnavailable,
  sweepDeadRunImages,
  FACTORY_VERSION,
  type AppContainer,
} from './rig.ts';
