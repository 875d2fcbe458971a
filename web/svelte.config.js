// Runes everywhere: a component that falls back to legacy reactivity is a bug here.
export default {
  compilerOptions: { runes: true },
};
