import { describeOccupancyContract } from './occupancy.contract.js'
import { MemoryOccupancy } from './occupancy-memory.js'

describeOccupancyContract('memory', async () => new MemoryOccupancy())
