"""Scripts written as the book's scripts are: they import ``common.*`` and
``dataset.mnist``, print what the book's print, and keep what they plot in ``record``.

``tests/test_book_scripts.py`` runs each on :mod:`optimlab.book` through the README's
swap rule and compares printed text and records, exactly, with the book's own code
(when it is on this machine) and with ``tests/golden/book/<name>.npz``, which
``scripts/make_book_golden.py`` makes by running them on the book's code.

The chapter-6 scripts (and chapter 5's and 7's that use ``common``) are mimicked
with fewer iterations, epochs or trials so that the suite stays fast; the
class-by-class scripts (``layers``, ``nets``, ``convnet_layers``) run every book
class at batch sizes 1, 3, 100 and 128.
"""

# ruff: noqa: E501

from __future__ import annotations

SCRIPTS: dict[str, str] = {}

#: the ``record`` of the class-by-class scripts: arrays of the batches of 100 and 128
#: are kept as digests of their bytes, dtype and shape (exact, and small goldens)
RECORD = """
class Record(dict):
    def __init__(self):
        self.n = 1
    def __setitem__(self, key, a):
        if self.n >= 100:
            a = np.asarray(a)
            a = hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest() + str(a.dtype) + str(a.shape)
        dict.__setitem__(self, key, a)
"""

# -- chapter 6 ------------------------------------------------------------------------
SCRIPTS["optimizer_compare_mnist"] = """
from dataset.mnist import load_mnist
from common.util import smooth_curve
from common.multi_layer_net import MultiLayerNet
from common.optimizer import *

np.random.seed(0)
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
train_size = x_train.shape[0]
batch_size = 128
max_iterations = 300

optimizers = {}
optimizers['SGD'] = SGD()
optimizers['Momentum'] = Momentum()
optimizers['AdaGrad'] = AdaGrad()
optimizers['Adam'] = Adam()

networks = {}
train_loss = {}
for key in optimizers.keys():
    networks[key] = MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100], output_size=10)
    train_loss[key] = []

for i in range(max_iterations):
    batch_mask = np.random.choice(train_size, batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]
    for key in optimizers.keys():
        grads = networks[key].gradient(x_batch, t_batch)
        optimizers[key].update(networks[key].params, grads)
        loss = networks[key].loss(x_batch, t_batch)
        train_loss[key].append(loss)
    if i % 100 == 0:
        print("===========" + "iteration:" + str(i) + "===========")
        for key in optimizers.keys():
            loss = networks[key].loss(x_batch, t_batch)
            print(key + ":" + str(loss))

record = {}
for key in optimizers.keys():
    record['loss.' + key] = train_loss[key]
    record['smooth.' + key] = smooth_curve(train_loss[key])
"""

SCRIPTS["weight_init_compare"] = """
from dataset.mnist import load_mnist
from common.util import smooth_curve
from common.multi_layer_net import MultiLayerNet
from common.optimizer import SGD
import numpy as np

np.random.seed(1)
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
train_size = x_train.shape[0]
batch_size = 128
max_iterations = 101

weight_init_types = {'std=0.01': 0.01, 'Xavier': 'sigmoid', 'He': 'relu'}
optimizer = SGD(lr=0.01)
networks = {}
train_loss = {}
for key, weight_type in weight_init_types.items():
    networks[key] = MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100],
                                  output_size=10, weight_init_std=weight_type)
    train_loss[key] = []

for i in range(max_iterations):
    batch_mask = np.random.choice(train_size, batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]
    for key in weight_init_types.keys():
        grads = networks[key].gradient(x_batch, t_batch)
        optimizer.update(networks[key].params, grads)
        loss = networks[key].loss(x_batch, t_batch)
        train_loss[key].append(loss)
    if i % 50 == 0:
        print("===========" + "iteration:" + str(i) + "===========")
        for key in weight_init_types.keys():
            loss = networks[key].loss(x_batch, t_batch)
            print(key + ":" + str(loss))

record = {'smooth.' + k: smooth_curve(v) for k, v in train_loss.items()}
"""

SCRIPTS["batch_norm_test"] = """
import numpy as np
from dataset.mnist import load_mnist
from common.multi_layer_net_extend import MultiLayerNetExtend
from common.optimizer import SGD, Adam

np.random.seed(2)
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
x_train = x_train[:1000]
t_train = t_train[:1000]
max_epochs = 4
train_size = x_train.shape[0]
batch_size = 100
learning_rate = 0.01


def __train(weight_init_std):
    bn_network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100], output_size=10,
                                    weight_init_std=weight_init_std, use_batchnorm=True)
    network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100], output_size=10,
                                weight_init_std=weight_init_std)
    optimizer = SGD(lr=learning_rate)
    train_acc_list = []
    bn_train_acc_list = []
    iter_per_epoch = max(train_size / batch_size, 1)
    epoch_cnt = 0
    for i in range(1000000000):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        for _network in (bn_network, network):
            grads = _network.gradient(x_batch, t_batch)
            optimizer.update(_network.params, grads)
        if i % iter_per_epoch == 0:
            train_acc = network.accuracy(x_train, t_train)
            bn_train_acc = bn_network.accuracy(x_train, t_train)
            train_acc_list.append(train_acc)
            bn_train_acc_list.append(bn_train_acc)
            print("epoch:" + str(epoch_cnt) + " | " + str(train_acc) + " - " + str(bn_train_acc))
            epoch_cnt += 1
            if epoch_cnt >= max_epochs:
                break
    return train_acc_list, bn_train_acc_list, bn_network


weight_scale_list = np.logspace(0, -4, num=16)
record = {}
for i, w in enumerate(weight_scale_list[::5]):
    print("============== " + str(i+1) + "/16" + " ==============")
    train_acc_list, bn_train_acc_list, bn_network = __train(w)
    record['acc.' + str(i)] = train_acc_list
    record['bn_acc.' + str(i)] = bn_train_acc_list
    record['running_var.' + str(i)] = bn_network.layers['BatchNorm3'].running_var
    record['test_loss.' + str(i)] = bn_network.loss(x_test[:500], t_test[:500])
"""

SCRIPTS["batch_norm_gradient_check"] = """
import numpy as np
from dataset.mnist import load_mnist
from common.multi_layer_net_extend import MultiLayerNetExtend

np.random.seed(3)
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
network = MultiLayerNetExtend(input_size=784, hidden_size_list=[6, 5], output_size=10,
                              use_batchnorm=True)
x_batch = x_train[:3]
t_batch = t_train[:3]
grad_backprop = network.gradient(x_batch, t_batch)
grad_numerical = network.numerical_gradient(x_batch, t_batch)
record = {}
for key in grad_numerical.keys():
    diff = np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
    print(key + ":" + str(diff))
    record['bp.' + key] = grad_backprop[key]
    record['num.' + key] = grad_numerical[key]
"""

SCRIPTS["overfit_weight_decay"] = """
import numpy as np
from dataset.mnist import load_mnist
from common.multi_layer_net import MultiLayerNet
from common.optimizer import SGD

np.random.seed(4)
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
x_train = x_train[:300]
t_train = t_train[:300]
weight_decay_lambda = 0.1
network = MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100, 100, 100], output_size=10,
                        weight_decay_lambda=weight_decay_lambda)
optimizer = SGD(lr=0.01)
max_epochs = 6
train_size = x_train.shape[0]
batch_size = 100
train_loss_list = []
train_acc_list = []
test_acc_list = []
iter_per_epoch = max(train_size / batch_size, 1)
epoch_cnt = 0
for i in range(1000000000):
    batch_mask = np.random.choice(train_size, batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]
    grads = network.gradient(x_batch, t_batch)
    optimizer.update(network.params, grads)
    train_loss_list.append(network.loss(x_batch, t_batch))
    if i % iter_per_epoch == 0:
        train_acc = network.accuracy(x_train, t_train)
        test_acc = network.accuracy(x_test, t_test)
        train_acc_list.append(train_acc)
        test_acc_list.append(test_acc)
        print("epoch:" + str(epoch_cnt) + ", train acc:" + str(train_acc) + ", test acc:" + str(test_acc))
        epoch_cnt += 1
        if epoch_cnt >= max_epochs:
            break
record = {'train_acc': train_acc_list, 'test_acc': test_acc_list, 'loss': train_loss_list}
"""

SCRIPTS["overfit_dropout"] = """
import numpy as np
from dataset.mnist import load_mnist
from common.multi_layer_net_extend import MultiLayerNetExtend
from common.trainer import Trainer

np.random.seed(5)
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
x_train = x_train[:300]
t_train = t_train[:300]
use_dropout = True
dropout_ratio = 0.2
network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100, 100],
                              output_size=10, use_dropout=use_dropout, dropout_ration=dropout_ratio)
trainer = Trainer(network, x_train, t_train, x_test, t_test,
                  epochs=4, mini_batch_size=100,
                  optimizer='sgd', optimizer_param={'lr': 0.01}, verbose=True)
trainer.train()
record = {'train_acc': trainer.train_acc_list, 'test_acc': trainer.test_acc_list,
          'loss': trainer.train_loss_list}
"""

SCRIPTS["hyperparameter_optimization"] = """
import numpy as np
from dataset.mnist import load_mnist
from common.multi_layer_net import MultiLayerNet
from common.util import shuffle_dataset
from common.trainer import Trainer

np.random.seed(6)
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)
x_train = x_train[:500]
t_train = t_train[:500]
validation_rate = 0.20
validation_num = int(x_train.shape[0] * validation_rate)
x_train, t_train = shuffle_dataset(x_train, t_train)
x_val = x_train[:validation_num]
t_val = t_train[:validation_num]
x_train = x_train[validation_num:]
t_train = t_train[validation_num:]


def __train(lr, weight_decay, epocs=3):
    network = MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100, 100, 100],
                            output_size=10, weight_decay_lambda=weight_decay)
    trainer = Trainer(network, x_train, t_train, x_val, t_val,
                      epochs=epocs, mini_batch_size=100,
                      optimizer='sgd', optimizer_param={'lr': lr}, verbose=False)
    trainer.train()
    return trainer.test_acc_list, trainer.train_acc_list


optimization_trial = 3
results_val = {}
results_train = {}
for _ in range(optimization_trial):
    weight_decay = 10 ** np.random.uniform(-8, -4)
    lr = 10 ** np.random.uniform(-6, -2)
    val_acc_list, train_acc_list = __train(lr, weight_decay)
    print("val acc:" + str(val_acc_list[-1]) + " | lr:" + str(lr) + ", weight decay:" + str(weight_decay))
    key = "lr:" + str(lr) + ", weight decay:" + str(weight_decay)
    results_val[key] = val_acc_list
    results_train[key] = train_acc_list

print("=========== Hyper-Parameter Optimization Result ===========")
i = 0
record = {}
for key, val_acc_list in sorted(results_val.items(), key=lambda x:x[1][-1], reverse=True):
    print("Best-" + str(i+1) + "(val acc:" + str(val_acc_list[-1]) + ") | " + key)
    record['val.' + str(i)] = val_acc_list
    record['train.' + str(i)] = results_train[key]
    i += 1
"""

SCRIPTS["optimizer_compare_naive"] = """
import numpy as np
from collections import OrderedDict
from common.optimizer import *


def f(x, y):
    return x**2 / 20.0 + y**2


def df(x, y):
    return x / 10.0, 2.0*y


init_pos = (-7.0, 2.0)
params = {}
params['x'], params['y'] = init_pos[0], init_pos[1]
grads = {}
grads['x'], grads['y'] = 0, 0

optimizers = OrderedDict()
optimizers["SGD"] = SGD(lr=0.95)
optimizers["Momentum"] = Momentum(lr=0.1)
optimizers["AdaGrad"] = AdaGrad(lr=1.5)
optimizers["Adam"] = Adam(lr=0.3)

record = {}
for key in optimizers:
    optimizer = optimizers[key]
    x_history = []
    y_history = []
    params['x'], params['y'] = init_pos[0], init_pos[1]
    for i in range(30):
        x_history.append(params['x'])
        y_history.append(params['y'])
        grads['x'], grads['y'] = df(params['x'], params['y'])
        optimizer.update(params, grads)
    x = np.arange(-10, 10, 0.01)
    y = np.arange(-5, 5, 0.01)
    X, Y = np.meshgrid(x, y)
    Z = f(X, Y)
    record['x.' + key] = x_history
    record['y.' + key] = y_history
    print(key, x_history[-1], y_history[-1])
record['Z.sum'] = Z.sum()
"""

# -- chapters 4, 5 and 7 --------------------------------------------------------------
SCRIPTS["gradient_simplenet"] = """
import numpy as np
from common.functions import softmax, cross_entropy_error
from common.gradient import numerical_gradient


class simpleNet:
    def __init__(self):
        self.W = np.random.randn(2,3)

    def predict(self, x):
        return np.dot(x, self.W)

    def loss(self, x, t):
        z = self.predict(x)
        y = softmax(z)
        loss = cross_entropy_error(y, t)
        return loss


np.random.seed(7)
x = np.array([0.6, 0.9])
t = np.array([0, 0, 1])
net = simpleNet()
f = lambda w: net.loss(x, t)
dW = numerical_gradient(f, net.W)
print(dW)
record = {'dW': dW, 'loss': net.loss(x, t)}
"""

SCRIPTS["two_layer_net_ch4"] = """
import numpy as np
from common.functions import *
from common.gradient import numerical_gradient
from dataset.mnist import load_mnist


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params['W1'] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

    def predict(self, x):
        W1, W2 = self.params['W1'], self.params['W2']
        b1, b2 = self.params['b1'], self.params['b2']
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        y = softmax(a2)
        return y

    def loss(self, x, t):
        y = self.predict(x)
        return cross_entropy_error(y, t)

    def accuracy(self, x, t):
        y = self.predict(x)
        y = np.argmax(y, axis=1)
        t = np.argmax(t, axis=1)
        accuracy = np.sum(y == t) / float(x.shape[0])
        return accuracy

    def numerical_gradient(self, x, t):
        loss_W = lambda W: self.loss(x, t)
        grads = {}
        for key in ('W1', 'b1', 'W2', 'b2'):
            grads[key] = numerical_gradient(loss_W, self.params[key])
        return grads

    def gradient(self, x, t):
        W1, W2 = self.params['W1'], self.params['W2']
        b1, b2 = self.params['b1'], self.params['b2']
        grads = {}
        batch_num = x.shape[0]
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        y = softmax(a2)
        dy = (y - t) / batch_num
        grads['W2'] = np.dot(z1.T, dy)
        grads['b2'] = np.sum(dy, axis=0)
        da1 = np.dot(dy, W2.T)
        dz1 = sigmoid_grad(a1) * da1
        grads['W1'] = np.dot(x.T, dz1)
        grads['b1'] = np.sum(dz1, axis=0)
        return grads


np.random.seed(14)
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
iters_num = 601
train_size = x_train.shape[0]
batch_size = 100
learning_rate = 0.1
train_loss_list = []
train_acc_list = []
test_acc_list = []
iter_per_epoch = max(train_size / batch_size, 1)
for i in range(iters_num):
    batch_mask = np.random.choice(train_size, batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]
    grad = network.gradient(x_batch, t_batch)
    for key in ('W1', 'b1', 'W2', 'b2'):
        network.params[key] -= learning_rate * grad[key]
    loss = network.loss(x_batch, t_batch)
    train_loss_list.append(loss)
    if i % iter_per_epoch == 0:
        train_acc = network.accuracy(x_train, t_train)
        test_acc = network.accuracy(x_test, t_test)
        train_acc_list.append(train_acc)
        test_acc_list.append(test_acc)
        print("train acc, test acc | " + str(train_acc) + ", " + str(test_acc))
small = TwoLayerNet(input_size=784, hidden_size=3, output_size=10)
num = small.numerical_gradient(x_train[:2], t_train[:2])
record = {'loss': train_loss_list, 'train_acc': train_acc_list, 'test_acc': test_acc_list}
for key in num:
    record['num.' + key] = num[key]
"""

SCRIPTS["two_layer_net"] = """
import numpy as np
from collections import OrderedDict
from common.layers import *
from common.gradient import numerical_gradient
from dataset.mnist import load_mnist


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std = 0.01):
        self.params = {}
        self.params['W1'] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)
        self.layers = OrderedDict()
        self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])
        self.layers['Relu1'] = Relu()
        self.layers['Affine2'] = Affine(self.params['W2'], self.params['b2'])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        y = self.predict(x)
        return self.lastLayer.forward(y, t)

    def accuracy(self, x, t):
        y = self.predict(x)
        y = np.argmax(y, axis=1)
        if t.ndim != 1 : t = np.argmax(t, axis=1)
        accuracy = np.sum(y == t) / float(x.shape[0])
        return accuracy

    def numerical_gradient(self, x, t):
        loss_W = lambda W: self.loss(x, t)
        grads = {}
        grads['W1'] = numerical_gradient(loss_W, self.params['W1'])
        grads['b1'] = numerical_gradient(loss_W, self.params['b1'])
        grads['W2'] = numerical_gradient(loss_W, self.params['W2'])
        grads['b2'] = numerical_gradient(loss_W, self.params['b2'])
        return grads

    def gradient(self, x, t):
        self.loss(x, t)
        dout = 1
        dout = self.lastLayer.backward(dout)
        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)
        grads = {}
        grads['W1'], grads['b1'] = self.layers['Affine1'].dW, self.layers['Affine1'].db
        grads['W2'], grads['b2'] = self.layers['Affine2'].dW, self.layers['Affine2'].db
        return grads


np.random.seed(8)
(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
network = TwoLayerNet(input_size=784, hidden_size=8, output_size=10)
x_batch = x_train[:3]
t_batch = t_train[:3]
grad_numerical = network.numerical_gradient(x_batch, t_batch)
grad_backprop = network.gradient(x_batch, t_batch)
record = {}
for key in grad_numerical.keys():
    diff = np.average( np.abs(grad_backprop[key] - grad_numerical[key]) )
    print(key + ":" + str(diff))
    record['num.' + key] = grad_numerical[key]

network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
iters_num = 601
train_size = x_train.shape[0]
batch_size = 100
learning_rate = 0.1
train_loss_list = []
iter_per_epoch = max(train_size / batch_size, 1)
for i in range(iters_num):
    batch_mask = np.random.choice(train_size, batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]
    grad = network.gradient(x_batch, t_batch)
    for key in ('W1', 'b1', 'W2', 'b2'):
        network.params[key] -= learning_rate * grad[key]
    loss = network.loss(x_batch, t_batch)
    train_loss_list.append(loss)
    if i % iter_per_epoch == 0:
        train_acc = network.accuracy(x_train, t_train)
        test_acc = network.accuracy(x_test, t_test)
        print(train_acc, test_acc)
record['loss'] = train_loss_list
"""

SCRIPTS["simple_convnet"] = """
import numpy as np
from collections import OrderedDict
from dataset.mnist import load_mnist
from common.layers import *
from common.gradient import numerical_gradient
from common.trainer import Trainer


class SimpleConvNet:
    def __init__(self, input_dim=(1, 28, 28),
                 conv_param={'filter_num':30, 'filter_size':5, 'pad':0, 'stride':1},
                 hidden_size=100, output_size=10, weight_init_std=0.01):
        filter_num = conv_param['filter_num']
        filter_size = conv_param['filter_size']
        filter_pad = conv_param['pad']
        filter_stride = conv_param['stride']
        input_size = input_dim[1]
        conv_output_size = (input_size - filter_size + 2*filter_pad) / filter_stride + 1
        pool_output_size = int(filter_num * (conv_output_size/2) * (conv_output_size/2))
        self.params = {}
        self.params['W1'] = weight_init_std * np.random.randn(filter_num, input_dim[0], filter_size, filter_size)
        self.params['b1'] = np.zeros(filter_num)
        self.params['W2'] = weight_init_std * np.random.randn(pool_output_size, hidden_size)
        self.params['b2'] = np.zeros(hidden_size)
        self.params['W3'] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params['b3'] = np.zeros(output_size)
        self.layers = OrderedDict()
        self.layers['Conv1'] = Convolution(self.params['W1'], self.params['b1'],
                                           conv_param['stride'], conv_param['pad'])
        self.layers['Relu1'] = Relu()
        self.layers['Pool1'] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers['Affine1'] = Affine(self.params['W2'], self.params['b2'])
        self.layers['Relu2'] = Relu()
        self.layers['Affine2'] = Affine(self.params['W3'], self.params['b3'])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        y = self.predict(x)
        return self.last_layer.forward(y, t)

    def accuracy(self, x, t, batch_size=100):
        if t.ndim != 1 : t = np.argmax(t, axis=1)
        acc = 0.0
        for i in range(int(x.shape[0] / batch_size)):
            tx = x[i*batch_size:(i+1)*batch_size]
            tt = t[i*batch_size:(i+1)*batch_size]
            y = self.predict(tx)
            y = np.argmax(y, axis=1)
            acc += np.sum(y == tt)
        return acc / x.shape[0]

    def numerical_gradient(self, x, t):
        loss_w = lambda w: self.loss(x, t)
        grads = {}
        for idx in (1, 2, 3):
            grads['W' + str(idx)] = numerical_gradient(loss_w, self.params['W' + str(idx)])
            grads['b' + str(idx)] = numerical_gradient(loss_w, self.params['b' + str(idx)])
        return grads

    def gradient(self, x, t):
        self.loss(x, t)
        dout = 1
        dout = self.last_layer.backward(dout)
        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)
        grads = {}
        grads['W1'], grads['b1'] = self.layers['Conv1'].dW, self.layers['Conv1'].db
        grads['W2'], grads['b2'] = self.layers['Affine1'].dW, self.layers['Affine1'].db
        grads['W3'], grads['b3'] = self.layers['Affine2'].dW, self.layers['Affine2'].db
        return grads


np.random.seed(9)
network = SimpleConvNet(input_dim=(1,10, 10),
                        conv_param = {'filter_num':10, 'filter_size':3, 'pad':0, 'stride':1},
                        hidden_size=10, output_size=10, weight_init_std=0.01)
X = np.random.rand(100).reshape((1, 1, 10, 10))
T = np.array([1]).reshape((1,1))
grad_num = network.numerical_gradient(X, T)
grad = network.gradient(X, T)
record = {}
for key, val in grad_num.items():
    print(key, np.abs(grad_num[key] - grad[key]).mean())
    record['num.' + key] = grad_num[key]
    record['bp.' + key] = grad[key]

(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
x_train, t_train = x_train[:500], t_train[:500]
x_test, t_test = x_test[:200], t_test[:200]
network = SimpleConvNet(input_dim=(1,28,28),
                        conv_param = {'filter_num': 6, 'filter_size': 5, 'pad': 0, 'stride': 1},
                        hidden_size=20, output_size=10, weight_init_std=0.01)
trainer = Trainer(network, x_train, t_train, x_test, t_test,
                  epochs=2, mini_batch_size=100,
                  optimizer='Adam', optimizer_param={'lr': 0.001},
                  evaluate_sample_num_per_epoch=100)
trainer.train()
record['loss'] = trainer.train_loss_list
record['W1'] = network.params['W1']
"""

# -- class by class, batch sizes 1, 3, 100, 128 ----------------------------------------
SCRIPTS["layers"] = """
import hashlib
import numpy as np
from common.functions import *
from common.layers import *
from common.gradient import numerical_gradient, numerical_gradient_2d
from common.util import im2col, col2im, conv_output_size

#RECORD

record = Record()
for n in (1, 3, 100, 128):
    record.n = n
    np.random.seed(n)
    x = np.random.randn(n, 7) * 3
    dout = np.random.randn(n, 7)
    t = np.random.randint(0, 7, n)
    t_one_hot = np.eye(7)[t]
    p = 'n' + str(n) + '.'
    for name, f in [('identity', identity_function), ('step', step_function),
                    ('sigmoid', sigmoid), ('sigmoid_grad', sigmoid_grad), ('relu', relu),
                    ('relu_grad', relu_grad), ('softmax', softmax)]:
        record[p + name] = f(x)
    y = softmax(x)
    record[p + 'cee'] = cross_entropy_error(y, t)
    record[p + 'cee_one_hot'] = cross_entropy_error(y, t_one_hot)
    record[p + 'cee_row'] = cross_entropy_error(y[0], t_one_hot[0])
    record[p + 'sse'] = sum_squared_error(y, t_one_hot)
    record[p + 'softmax_loss'] = softmax_loss(x, t)
    for name, layer in [('Relu', Relu()), ('Sigmoid', Sigmoid())]:
        record[p + name + '.forward'] = layer.forward(x)
        record[p + name + '.backward'] = layer.backward(dout.copy())
    W, b = np.random.randn(7, 5), np.random.randn(5)
    affine = Affine(W, b)
    record[p + 'Affine.forward'] = affine.forward(x.reshape(n, 7, 1))
    record[p + 'Affine.backward'] = affine.backward(np.random.randn(n, 5))
    record[p + 'Affine.dW'] = affine.dW
    record[p + 'Affine.db'] = affine.db
    for name, labels in [('int', t), ('one_hot', t_one_hot)]:
        layer = SoftmaxWithLoss()
        record[p + 'SoftmaxWithLoss.' + name + '.forward'] = layer.forward(x, labels)
        record[p + 'SoftmaxWithLoss.' + name + '.backward'] = layer.backward()
    for ratio in (0.5, 0.2):
        layer = Dropout(ratio)
        record[p + 'Dropout' + str(ratio) + '.train'] = layer.forward(x, train_flg=True)
        record[p + 'Dropout' + str(ratio) + '.backward'] = layer.backward(dout)
        record[p + 'Dropout' + str(ratio) + '.test'] = layer.forward(x, train_flg=False)
    gamma, beta = np.random.rand(7) + 0.5, np.random.randn(7)
    bn = BatchNormalization(gamma, beta, momentum=0.8)
    for step in range(3):
        record[p + 'BN.train' + str(step)] = bn.forward(x + step, train_flg=True)
        record[p + 'BN.backward' + str(step)] = bn.backward(dout)
        record[p + 'BN.dgamma' + str(step)] = bn.dgamma
        record[p + 'BN.dbeta' + str(step)] = bn.dbeta
    record[p + 'BN.test'] = bn.forward(x, train_flg=False)
    record[p + 'BN.running_mean'] = bn.running_mean
    record[p + 'BN.running_var'] = bn.running_var
    bn4 = BatchNormalization(np.ones(2 * 3 * 3), np.zeros(2 * 3 * 3))
    x4 = np.random.randn(n, 2, 3, 3)
    record[p + 'BN4.train'] = bn4.forward(x4)
    record[p + 'BN4.backward'] = bn4.backward(np.random.randn(n, 2, 3, 3))
    record[p + 'BN4.test'] = bn4.forward(x4, train_flg=False)

record.n = 1
np.random.seed(10)
f = lambda w: np.sum(np.sin(w) * w ** 2)
record['numerical_gradient'] = numerical_gradient(f, np.random.randn(3, 4))
record['numerical_gradient_2d'] = numerical_gradient_2d(lambda w: np.sum(w ** 3), np.random.randn(3, 4))
record['numerical_gradient_1d'] = numerical_gradient_2d(lambda w: np.sum(w ** 3), np.random.randn(5))
record['conv_output_size'] = [conv_output_size(28, 5), conv_output_size(28, 5, 2, 1), conv_output_size(7, 2, 2)]
print(record['numerical_gradient_2d'])
"""

SCRIPTS["convnet_layers"] = """
import hashlib
import numpy as np
from common.layers import Convolution, Pooling
from common.util import im2col, col2im


#RECORD

record = Record()
for n in (1, 3, 100, 128):
    record.n = n
    np.random.seed(20 + n)
    x = np.random.randn(n, 2, 7, 7)
    p = 'n' + str(n) + '.'
    for stride, pad in [(1, 0), (2, 1)]:
        q = p + str(stride) + str(pad) + '.'
        col = im2col(x, 3, 3, stride, pad)
        record[q + 'im2col'] = col
        record[q + 'col2im'] = col2im(col, x.shape, 3, 3, stride, pad)
        conv = Convolution(np.random.randn(4, 2, 3, 3), np.random.randn(4), stride, pad)
        out = conv.forward(x)
        record[q + 'conv.forward'] = out
        record[q + 'conv.backward'] = conv.backward(np.random.randn(*out.shape))
        record[q + 'conv.dW'] = conv.dW
        record[q + 'conv.db'] = conv.db
    pool = Pooling(2, 2, stride=2)
    out = pool.forward(x[:, :, :6, :6])
    record[p + 'pool.forward'] = out
    record[p + 'pool.backward'] = pool.backward(np.random.randn(*out.shape))
"""

SCRIPTS["nets"] = """
import hashlib
import numpy as np
from common.multi_layer_net import MultiLayerNet
from common.multi_layer_net_extend import MultiLayerNetExtend
from common.optimizer import *

#RECORD

record = Record()
configs = [
    ('plain', MultiLayerNet, dict(activation='relu', weight_init_std='he', weight_decay_lambda=0)),
    ('sigmoid', MultiLayerNet, dict(activation='sigmoid', weight_init_std='xavier', weight_decay_lambda=0.1)),
    ('std', MultiLayerNet, dict(weight_init_std=0.05)),
    ('ext', MultiLayerNetExtend, dict()),
    ('bn', MultiLayerNetExtend, dict(use_batchnorm=True, weight_decay_lambda=0.05)),
    ('drop', MultiLayerNetExtend, dict(use_dropout=True, dropout_ration=0.3)),
    ('bn_drop', MultiLayerNetExtend, dict(activation='sigmoid', use_dropout=True, use_batchnorm=True)),
]
optimizers = [('SGD', SGD, dict(lr=0.1)), ('Momentum', Momentum, dict()), ('Nesterov', Nesterov, dict(momentum=0.8)),
              ('AdaGrad', AdaGrad, dict(lr=0.05)), ('RMSprop', RMSprop, dict()), ('Adam', Adam, dict(lr=0.01, beta2=0.99))]
for n in (1, 3, 100, 128):
    record.n = n
    for name, cls, kw in configs:
        np.random.seed(n)
        net = cls(12, [10, 8], 4, **kw)
        x = np.random.rand(n, 12).astype(np.float32)
        t = np.random.randint(0, 4, n)
        p = 'n' + str(n) + '.' + name + '.'
        record[p + 'init.W1'] = net.params['W1']
        grads = net.gradient(x, t)
        for k in grads:
            record[p + 'grad.' + k] = grads[k]
        record[p + 'loss'] = net.loss(x, t)
        record[p + 'predict'] = net.predict(x)
        record[p + 'accuracy'] = net.accuracy(x, np.eye(4)[t])
        if cls is MultiLayerNetExtend:
            record[p + 'loss_train'] = net.loss(x, t, train_flg=True)
            record[p + 'predict_train'] = net.predict(x, train_flg=True)
        opt_name, opt_cls, opt_kw = optimizers[len(record) % len(optimizers)]
        optimizer = opt_cls(**opt_kw)
        for step in range(3):
            optimizer.update(net.params, net.gradient(x, t))
        for k in net.params:
            record[p + opt_name + '.' + k] = net.params[k]
    np.random.seed(n)
    net = MultiLayerNetExtend(6, [5], 3, use_batchnorm=True, use_dropout=True)
    x, t = np.random.rand(min(n, 4), 6), np.random.randint(0, 3, min(n, 4))
    num = net.numerical_gradient(x, t)
    for k in num:
        record['n' + str(n) + '.numerical.' + k] = num[k]
    np.random.seed(n)
    net = MultiLayerNet(6, [5], 3, activation='sigmoid', weight_decay_lambda=0.1)
    num = net.numerical_gradient(x, t)
    for k in num:
        record['n' + str(n) + '.numerical_plain.' + k] = num[k]

record.n = 1
for opt_name, opt_cls, opt_kw in optimizers:
    np.random.seed(11)
    params = {'w': np.random.randn(3, 4), 'b': np.random.randn(4)}
    optimizer = opt_cls(**opt_kw)
    for step in range(5):
        optimizer.update(params, {'w': np.random.randn(3, 4), 'b': np.random.randn(4)})
    record['update.' + opt_name + '.w'] = params['w']
    record['update.' + opt_name + '.b'] = params['b']
print(sorted(record)[:3])
"""

SCRIPTS["trainer"] = """
import numpy as np
from common.multi_layer_net import MultiLayerNet
from common.multi_layer_net_extend import MultiLayerNetExtend
from common.trainer import Trainer

record = {}
np.random.seed(12)
x = np.random.rand(250, 10)
t = np.random.randint(0, 3, 250)
xt = np.random.rand(90, 10)
tt = np.random.randint(0, 3, 90)
for i, (opt, param) in enumerate([('SGD', {'lr': 0.1}), ('momentum', {'lr': 0.05, 'momentum': 0.8}),
                                  ('Nesterov', {}), ('adagrad', {'lr': 0.1}), ('RMSprop', {'lr': 0.01}),
                                  ('Adam', {'lr': 0.01})]):
    net = MultiLayerNetExtend(10, [8, 6], 3, use_batchnorm=(i % 2 == 0), use_dropout=(i == 3))
    print("--- " + opt)
    trainer = Trainer(net, x, t, xt, tt, epochs=3, mini_batch_size=[100, 128, 3, 1, 100, 128][i],
                      optimizer=opt, optimizer_param=param,
                      evaluate_sample_num_per_epoch=[None, 50, None, 20, None, None][i],
                      verbose=(i != 2))
    trainer.train()
    record[opt + '.loss'] = trainer.train_loss_list
    record[opt + '.train_acc'] = trainer.train_acc_list
    record[opt + '.test_acc'] = trainer.test_acc_list
net = MultiLayerNet(10, [8], 3)
trainer = Trainer(net, x, t, xt, tt, epochs=2)
trainer.train()
record['default.loss'] = trainer.train_loss_list
"""

SCRIPTS["loader"] = """
import hashlib
import numpy as np
from dataset.mnist import load_mnist

record = {}
for normalize in (True, False):
    for flatten in (True, False):
        for one_hot_label in (True, False):
            (x, t), (xt, tt) = load_mnist(normalize=normalize, flatten=flatten, one_hot_label=one_hot_label)
            key = str(normalize) + str(flatten) + str(one_hot_label)
            for name, a in [('x', x), ('t', t), ('xt', xt), ('tt', tt)]:
                record[key + '.' + name] = hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
                print(key, name, a.dtype, a.shape, a.flags.c_contiguous)
"""

SCRIPTS["util"] = """
import numpy as np
from common.util import *

np.random.seed(13)
record = {}
for n in (11, 12, 100, 128, 2000):
    x = np.random.rand(n)
    record['smooth.' + str(n)] = smooth_curve(x)
for n in (1, 3, 100, 128):
    x2 = np.random.rand(n, 5)
    t = np.arange(n)
    xs, ts = shuffle_dataset(x2, t)
    record['shuffle.x.' + str(n)] = xs
    record['shuffle.t.' + str(n)] = ts
    x4 = np.random.rand(n, 1, 2, 2)
    xs, ts = shuffle_dataset(x4, t)
    record['shuffle4.x.' + str(n)] = xs
print(record['smooth.11'])
"""

for _name in ("layers", "convnet_layers", "nets"):
    SCRIPTS[_name] = SCRIPTS[_name].replace("#RECORD\n", RECORD)
