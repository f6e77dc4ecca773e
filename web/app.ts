// placeholder until the page lands
export {}
