// Vite turns CSS imports into <link>/<style>; TypeScript only needs to know they exist.
declare module '*.css';
