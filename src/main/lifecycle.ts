// How a start step hands its stop to the composition root: stops run in reverse order of registration, so a service
// stops before what it depends on.
export type OnStop = (name: string, stop: () => Promise<void> | void) => void;
