// Moved to src/shared/calendar/ist.ts (pure, usable by the devticker and the renderer); kept for existing imports.
export * from '../../shared/calendar/ist';
