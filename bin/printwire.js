#!/usr/bin/env node
// `npx printwire ...`: loads the TypeScript command line through tsx's loader.
import { register } from 'tsx/esm/api'

register()
await import('../cli/main.ts')
