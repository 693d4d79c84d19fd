// The layering of src/, checked by `npm run lint:deps` (part of `npm test`).
// Each folder may import only the folders listed for it; everything else is an
// arrow running back up. The flow reads top to bottom:
//   cli → agents → runtime → (engines, services, coordination, reporting, graph) → plan → (contract, text, io)
// docs/architecture.md explains each layer.
/** Folder → the folders it may import besides itself. */
const ALLOWED = {
  contract: [],
  text: [],
  io: [],
  plan: ['contract', 'text'],
  graph: ['plan', 'contract', 'text'],
  coordination: ['contract'],
  engines: ['contract', 'text', 'io'],
  services: ['contract', 'text'],
  reporting: ['contract', 'text', 'io'],
  runtime: ['engines', 'services', 'coordination', 'reporting', 'graph', 'plan', 'contract', 'text', 'io'],
  agents: ['runtime', 'engines', 'services', 'coordination', 'reporting', 'graph', 'plan', 'contract', 'text', 'io'],
  cli: ['agents', 'runtime', 'engines', 'services', 'coordination', 'reporting', 'graph', 'plan', 'contract', 'text', 'io'],
};

const folders = Object.keys(ALLOWED);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: the files of a cycle cannot be read, tested or moved apart.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'unknown-folder',
      severity: 'error',
      comment: 'Every file of src/ lives in one of the layer folders listed in ALLOWED (add a new folder there, with its place in the layering).',
      from: { path: '^src/', pathNot: `^src/(${folders.join('|')})/` },
      to: {},
    },
    ...folders.map((folder) => ({
      name: `layer-${folder}`,
      severity: 'error',
      comment: `src/${folder}/ may import only: ${ALLOWED[folder].join(', ') || 'nothing else in src/'}`,
      from: { path: `^src/${folder}/` },
      to: { path: '^src/', pathNot: `^src/(${[folder, ...ALLOWED[folder]].join('|')})/` },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
